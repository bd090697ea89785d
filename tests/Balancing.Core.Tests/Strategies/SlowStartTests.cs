using Balancing.Strategies;
using Microsoft.Extensions.Time.Testing;
using static Balancing.Core.Tests.Strategies.StrategyHarness;

namespace Balancing.Core.Tests.Strategies;

[TestClass]
public sealed class SlowStartTests
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    [TestMethod]
    public void EffectiveWeight_RampsLinearlyFromTenPercentToFull()
    {
        var clock = new FakeTimeProvider(Start);
        var weights = new EffectiveWeights(clock);
        weights.SetWindow(Window);
        var backend = Backends(4)[0];
        weights.EnteredService(backend, clock.GetUtcNow());

        var atStart = weights.Of(backend, weights.Now());
        clock.Advance(Window / 2);
        var halfway = weights.Of(backend, weights.Now());
        clock.Advance(Window / 2);
        var atEnd = weights.Of(backend, weights.Now());

        Assert.AreEqual((40L, 220L, 400L), (atStart, halfway, atEnd), "4 × 10 %, 4 × 55 %, 4 × 100 % (in hundredths)");
    }

    [TestMethod]
    public void Pick_BackendHealthyAgain_ShareGrowsOverTheWindow()
    {
        var clock = new FakeTimeProvider(Start);
        var pool = Pool(new WeightedRoundRobinStrategy(), clock, Window, 1, 1);
        var b = pool.Backends[1];
        b.SetHealth(BackendHealth.Unhealthy, "probe failed", clock.GetUtcNow());
        b.SetHealth(BackendHealth.Healthy, "probe passed", clock.GetUtcNow());

        // Effective weights 100 : 10, then 100 : 55, then 100 : 100: one period each is 11, 31 and 2 picks.
        var atStart = Counts(pool, 1_100)[1];
        clock.Advance(Window / 2);
        var halfway = Counts(pool, 3_100)[1];
        clock.Advance(Window / 2);
        var atEnd = Counts(pool, 1_000)[1];

        Assert.AreEqual(b.InServiceSince, Start);
        Assert.AreEqual((100, 1_100, 500), (atStart, halfway, atEnd), "b's picks: 1 in 11 (10 %), 11 in 31 (55 %), 1 in 2 (100 %)");
    }

    [TestMethod]
    public void Pick_BackendReadmittedAfterEjection_Ramps()
    {
        var clock = new FakeTimeProvider(Start);
        var pool = Pool(new WeightedRoundRobinStrategy(), clock, Window, 1, 1);
        var b = pool.Backends[1];
        b.Eject(clock.GetUtcNow() + TimeSpan.FromSeconds(30));
        clock.Advance(TimeSpan.FromSeconds(30));

        b.Readmit(BreakerState.HalfOpen);

        Assert.AreEqual(100, Counts(pool, 1_100)[1]);
        Assert.AreEqual(clock.GetUtcNow(), b.InServiceSince);
    }

    [TestMethod]
    public void Pick_BackendJoinsOnReload_RampsWhileTheOthersKeepFullWeight()
    {
        var clock = new FakeTimeProvider(Start);
        var pool = Pool(new WeightedRoundRobinStrategy(), clock, Window, 1, 1);
        clock.Advance(TimeSpan.FromMinutes(1));

        pool.Update(Options(Window, 1, 1, 1), strategy: null);
        var counts = Counts(pool, 2_100);

        Assert.AreSequenceEqual(new[] { 1_000, 1_000, 100 }, counts, "c at 10 % of a or b: 1 pick in 21");
        Assert.IsNull(pool.Backends[0].InServiceSince, "backends of the first configuration do not ramp");
    }

    [TestMethod]
    public void Pick_SlowStartOff_RejoiningBackendGetsItsFullShareAtOnce()
    {
        var clock = new FakeTimeProvider(Start);
        var pool = Pool(new WeightedRoundRobinStrategy(), clock, TimeSpan.Zero, 1, 1);
        var b = pool.Backends[1];
        b.SetHealth(BackendHealth.Unhealthy, "probe failed", clock.GetUtcNow());
        b.SetHealth(BackendHealth.Healthy, "probe passed", clock.GetUtcNow());

        Assert.AreSequenceEqual(new[] { 500, 500 }, Counts(pool, 1_000));
    }

    [TestMethod]
    public void Pick_NobodyRamping_DoesNotReadTheClock()
    {
        var clock = new CountingTimeProvider(Start);
        var pool = Pool(new WeightedRoundRobinStrategy(), clock, Window, 1, 1);
        var b = pool.Backends[1];
        b.SetHealth(BackendHealth.Unhealthy, "probe failed", Start);
        b.SetHealth(BackendHealth.Healthy, "probe passed", Start);
        Counts(pool, 100);
        var readsWhileRamping = clock.Reads;
        clock.Advance(Window);
        Counts(pool, 100);

        var readsBefore = clock.Reads;
        var counts = Counts(pool, 1_000);

        Assert.IsGreaterThan(1, readsWhileRamping);
        Assert.AreEqual(readsBefore, clock.Reads, "no clock read once the ramp is over");
        Assert.AreSequenceEqual(new[] { 500, 500 }, counts);
    }

    [TestMethod]
    public void Pick_LeastConnectionsIdle_RampingBackendGetsItsReducedShare()
    {
        var clock = new FakeTimeProvider(Start);
        var pool = Pool(new LeastConnectionsStrategy(new Random(5)), clock, Window, 1, 1);
        var b = pool.Backends[1];
        b.SetHealth(BackendHealth.Unhealthy, "probe failed", clock.GetUtcNow());
        b.SetHealth(BackendHealth.Healthy, "probe passed", clock.GetUtcNow());

        var counts = Counts(pool, 22_000);

        // 10 : 100 of the ties: 2,000 expected, standard deviation about 43.
        Assert.IsTrue(Math.Abs(counts[1] - 2_000) < 250, $"counts {counts[0]}/{counts[1]}");
    }

    [TestMethod]
    [DataRow("Random")]
    [DataRow("PowerOfTwoChoices")]
    public void Pick_RandomisedStrategiesIdle_RampingBackendGetsItsReducedShare(string name)
    {
        var clock = new FakeTimeProvider(Start);
        ILoadStrategy strategy = name == "Random" ? new RandomStrategy(new Random(5)) : new PowerOfTwoChoicesStrategy(new Random(5));
        var pool = Pool(strategy, clock, Window, 1, 1);
        var b = pool.Backends[1];
        b.SetHealth(BackendHealth.Unhealthy, "probe failed", clock.GetUtcNow());
        b.SetHealth(BackendHealth.Healthy, "probe passed", clock.GetUtcNow());

        var atStart = Counts(pool, 22_000)[1];
        clock.Advance(Window);
        var atEnd = Counts(pool, 22_000)[1];

        Assert.IsTrue(Math.Abs(atStart - 2_000) < 250, $"{atStart} picks at the start");
        Assert.IsTrue(Math.Abs(atEnd - 11_000) < 400, $"{atEnd} picks at the end");
    }
}
