using Balancing.Pools;
using Balancing.Strategies;
using Microsoft.Extensions.Time.Testing;

namespace Balancing.Core.Tests.Strategies;

[TestClass]
public sealed class PeakEwmaStrategyTests
{
    private static readonly TimeSpan Tau = new PeakEwmaOptions().DecayTime;

    [TestMethod]
    public void Name_IsThePeakEwmaConstant()
    {
        Assert.AreEqual(LoadStrategyNames.PeakEwma, new PeakEwmaStrategy(TimeProvider.System).Name);
    }

    [TestMethod]
    public void Pick_NoCandidates_ReturnsNull()
    {
        Assert.IsNull(new PeakEwmaStrategy(TimeProvider.System).Pick([], new BalancingContext(null)));
    }

    [TestMethod]
    public void Pick_OneCandidate_ReturnsIt()
    {
        var only = Backend("a");

        Assert.AreSame(only, new PeakEwmaStrategy(TimeProvider.System).Pick([only], new BalancingContext(null)));
    }

    [TestMethod]
    public void Pick_OneBackendSlower_AlwaysPrefersTheFasterOne()
    {
        var clock = new FakeTimeProvider();
        var fast = Sampled("fast", 10, clock);
        var slow = Sampled("slow", 100, clock);
        var strategy = new PeakEwmaStrategy(clock);

        var picks = PickMany(strategy, [slow, fast], 200);

        Assert.AreEqual(200, picks["fast"]);
    }

    [TestMethod]
    public void Pick_ThreeBackendsOneSlow_TheSlowOneWinsNoComparison()
    {
        var clock = new FakeTimeProvider();
        var strategy = new PeakEwmaStrategy(clock);
        BackendState[] backends = [Sampled("a", 10, clock), Sampled("b", 12, clock), Sampled("slow", 60, clock)];

        var picks = PickMany(strategy, backends, 3_000);

        // Power of two choices: each pair comes up a third of the time; the slow backend loses both of its pairs, b wins one.
        Assert.AreEqual(0, picks.GetValueOrDefault("slow"));
        Assert.AreEqual(2_000, picks["a"], 150);
        Assert.AreEqual(1_000, picks["b"], 150);
    }

    [TestMethod]
    public void Pick_NeverAnsweredIdleBackend_WinsEveryComparisonItIsDrawnFor()
    {
        var clock = new FakeTimeProvider();
        var strategy = new PeakEwmaStrategy(clock);
        BackendState[] backends = [Sampled("a", 1, clock), Backend("new"), Sampled("c", 1, clock)];

        var picks = PickMany(strategy, backends, 3_000);

        // Two distinct candidates include it 2/3 of the time; two independent draws would only 5/9 of the time (1,667).
        Assert.AreEqual(2_000, picks["new"], 150);
    }

    [TestMethod]
    public void Pick_NeverAnsweredBackendWithRequestsInFlight_CountsDefaultLatencyForEach()
    {
        var clock = new FakeTimeProvider();
        var strategy = new PeakEwmaStrategy(clock);
        var unknown = Backend("new");
        unknown.RequestStarted();
        var fast = Sampled("fast", 10, clock);
        var slow = Sampled("slow", 50, clock);

        // One request in flight at the default 30 ms: dearer than an idle 10 ms backend, cheaper than an idle 50 ms one.
        Assert.AreSame(fast, strategy.Pick([unknown, fast], new BalancingContext(null)));
        Assert.AreSame(unknown, strategy.Pick([unknown, slow], new BalancingContext(null)));
    }

    [TestMethod]
    public void Pick_SameLatency_PrefersFewerRequestsInFlight()
    {
        var clock = new FakeTimeProvider();
        var busy = Sampled("busy", 10, clock);
        var idle = Sampled("idle", 10, clock);
        busy.RequestStarted();

        Assert.AreSame(idle, new PeakEwmaStrategy(clock).Pick([busy, idle], new BalancingContext(null)));
    }

    [TestMethod]
    public void Pick_SlowerButMuchLessBusy_WinsOverAFastBusyBackend()
    {
        var clock = new FakeTimeProvider();
        var fast = Sampled("fast", 10, clock);
        var slow = Sampled("slow", 30, clock);
        for (var i = 0; i < 5; i++)
        {
            fast.RequestStarted();
        }

        // 10 ms × 6 = 60 against 30 ms × 1 = 30.
        Assert.AreSame(slow, new PeakEwmaStrategy(clock).Pick([fast, slow], new BalancingContext(null)));
    }

    [TestMethod]
    public void Pick_SameLatencyAndLoad_HeavierBackendWins()
    {
        var clock = new FakeTimeProvider();
        var light = Sampled("light", 10, clock);
        var heavy = Sampled("heavy", 10, clock);
        heavy.Weight = 3;
        light.RequestStarted();
        heavy.RequestStarted();
        heavy.RequestStarted();

        // 10 × 2 / 1 = 20 against 10 × 3 / 3 = 10.
        Assert.AreSame(heavy, new PeakEwmaStrategy(clock).Pick([light, heavy], new BalancingContext(null)));
    }

    [TestMethod]
    public void Pick_SlowBackendLeftAlone_IsTriedAgainOnceItsEstimateHasDecayed()
    {
        var clock = new FakeTimeProvider();
        var strategy = new PeakEwmaStrategy(clock);
        var steady = Sampled("steady", 10, clock);
        var recovered = Sampled("recovered", 100, clock);
        BackendState[] backends = [steady, recovered];

        var picksWhileSlow = new List<string>();
        var picksAfterDecay = new List<string>();
        for (var second = 1; second <= 40; second++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            var picked = strategy.Pick(backends, new BalancingContext(null))!;
            (second <= 20 ? picksWhileSlow : picksAfterDecay).Add(picked.Id);

            // Whoever is picked answers in 10 ms: the slow backend has recovered, but only a request to it can tell.
            picked.RecordLatency(TimeSpan.FromMilliseconds(10), Tau, clock);
        }

        // 100 ms × e^(-t/10 s) falls under the steady backend's 9 ms after 24 s; then it is tried, and its fast answer
        // pulls its estimate down.
        Assert.DoesNotContain("recovered", picksWhileSlow);
        Assert.Contains("recovered", picksAfterDecay);
        Assert.IsLessThan(20, recovered.LatencyEstimate!.Value.TotalMilliseconds);
    }

    [TestMethod]
    public void Pick_InAPool_UsesThePoolsDecayTime()
    {
        var clock = new FakeTimeProvider();
        var options = new PoolOptions { Strategy = LoadStrategyNames.PeakEwma };
        options.PeakEwma.DecayTime = TimeSpan.FromSeconds(1);
        options.Backends["steady"] = new BackendOptions { Address = "http://steady.test" };
        options.Backends["slow"] = new BackendOptions { Address = "http://slow.test" };
        var strategy = new PeakEwmaStrategy(clock);
        var pool = new ServerPool("default", options, strategy, clock);
        var steady = pool.FindBackend("steady")!;
        var slow = pool.FindBackend("slow")!;
        slow.RecordLatency(TimeSpan.FromMilliseconds(100), options.PeakEwma.DecayTime, clock);

        clock.Advance(TimeSpan.FromSeconds(3));
        steady.RecordLatency(TimeSpan.FromMilliseconds(10), options.PeakEwma.DecayTime, clock);

        // τ = 1 s: 100 ms × e^-3 ≈ 5 ms, cheaper than a fresh 10 ms (with the default 10 s it would still be 74 ms).
        Assert.AreSame(slow, strategy.Pick(pool.AvailableBackends.AsSpan(), new BalancingContext(null)));
    }

    [TestMethod]
    public void Pick_AfterWarmUp_AllocatesNothing()
    {
        var clock = new FakeTimeProvider();
        var strategy = new PeakEwmaStrategy(clock);
        BackendState[] backends = [Sampled("a", 10, clock), Sampled("b", 12, clock), Backend("c")];
        PickMany(strategy, backends, 1_000);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            strategy.Pick(backends, new BalancingContext(null));
        }

        Assert.AreEqual(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static BackendState Backend(string id) => new(id, new Uri($"http://{id}.test"));

    private static BackendState Sampled(string id, int latencyMs, TimeProvider clock)
    {
        var backend = Backend(id);
        backend.RecordLatency(TimeSpan.FromMilliseconds(latencyMs), Tau, clock);
        return backend;
    }

    private static Dictionary<string, int> PickMany(PeakEwmaStrategy strategy, BackendState[] backends, int count)
    {
        var picks = new Dictionary<string, int>();
        for (var i = 0; i < count; i++)
        {
            var id = strategy.Pick(backends, new BalancingContext(null))!.Id;
            picks[id] = picks.GetValueOrDefault(id) + 1;
        }

        return picks;
    }
}
