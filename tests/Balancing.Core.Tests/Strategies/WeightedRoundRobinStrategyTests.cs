using Balancing.Strategies;
using Microsoft.Extensions.Time.Testing;
using static Balancing.Core.Tests.Strategies.StrategyHarness;

namespace Balancing.Core.Tests.Strategies;

[TestClass]
public sealed class WeightedRoundRobinStrategyTests
{
    [TestMethod]
    public void Name_IsTheWeightedRoundRobinConstant()
    {
        Assert.AreEqual(LoadStrategyNames.WeightedRoundRobin, new WeightedRoundRobinStrategy().Name);
    }

    [TestMethod]
    public void Pick_Weights511_FollowsNginxSmoothSequenceRepeatedly()
    {
        var pool = Pool(new WeightedRoundRobinStrategy(), TimeProvider.System, TimeSpan.Zero, 5, 1, 1);

        var sequence = Sequence(pool, 21);

        Assert.AreEqual("a a b a c a a a a b a c a a a a b a c a a", sequence);
    }

    [TestMethod]
    public void Pick_Weights511_7000PicksGiveExactly5000_1000_1000()
    {
        var pool = Pool(new WeightedRoundRobinStrategy(), TimeProvider.System, TimeSpan.Zero, 5, 1, 1);

        var counts = Counts(pool, 7_000);

        Assert.AreSequenceEqual(new[] { 5_000, 1_000, 1_000 }, counts);
    }

    [TestMethod]
    [DataRow(new[] { 5, 1, 1 })]
    [DataRow(new[] { 1, 1, 1 })]
    [DataRow(new[] { 3, 2 })]
    [DataRow(new[] { 4, 6, 10 })]
    [DataRow(new[] { 7, 0, 3, 1 })]
    [DataRow(new[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 })]
    public void Pick_AnyWeights_MatchesNginxReferenceOverTwoPeriods(int[] weights)
    {
        var strategy = new WeightedRoundRobinStrategy();
        var backends = Backends(weights);
        var picks = 2 * weights.Sum();

        var sequence = Sequence(strategy, backends, picks);

        Assert.AreEqual(NginxReference(backends, picks), sequence);
    }

    [TestMethod]
    public void Pick_WeightsChangeOnReload_FollowsTheNewScheduleFromItsStart()
    {
        var pool = Pool(new WeightedRoundRobinStrategy(), TimeProvider.System, TimeSpan.Zero, 1, 1, 1);
        Assert.AreEqual("a b", Sequence(pool, 2));

        pool.Update(Options(TimeSpan.Zero, 3, 1, 1), strategy: null);

        Assert.AreEqual("a b a c a a b a c a", Sequence(pool, 10));
    }

    [TestMethod]
    public void Pick_BackendLeavesAndReturns_ScheduleFollowsTheSnapshot()
    {
        var pool = Pool(new WeightedRoundRobinStrategy(), TimeProvider.System, TimeSpan.Zero, 5, 1, 1);

        pool.Backends[0].SetHealth(BackendHealth.Unhealthy, "probe failed", Start);
        var withoutA = Sequence(pool, 4);
        pool.Backends[0].SetHealth(BackendHealth.Healthy, "probe passed", Start);
        var withA = Sequence(pool, 7);

        Assert.AreEqual(("b c b c", "a a b a c a a"), (withoutA, withA));
    }

    [TestMethod]
    public void Pick_RetrySubset_ChoosesInProportionToWeightAndLeavesTheScheduleAlone()
    {
        var pool = Pool(new WeightedRoundRobinStrategy(), TimeProvider.System, TimeSpan.Zero, 5, 1, 1);
        var before = Sequence(pool, 3);
        BackendState[] subset = [pool.Backends[0], pool.Backends[2]];

        var counts = Counts(pool.Strategy, subset, 4_096);
        var after = Sequence(pool, 4);

        Assert.AreEqual("a a b", before);
        Assert.AreEqual("a c a a", after, "the full schedule carries on where it was");

        // 5:1 of 4,096 picks is 3,413.3 and 682.7; the bit-reversed counter is exact to one pick over a power of two.
        Assert.IsTrue(Math.Abs(counts[0] - (4_096 * 5 / 6.0)) <= 1 && Math.Abs(counts[1] - (4_096 / 6.0)) <= 1, $"subset counts {counts[0]}/{counts[1]}");
    }

    [TestMethod]
    public void Pick_PeriodTooLongToPrecompute_IsExactToOnePickPerPowerOfTwoBlock()
    {
        // Period 2,000,001 picks: far past the precomputed length, so the bit-reversed counter chooses.
        int[] weights = [1_000_000, 999_999, 2];
        var strategy = new WeightedRoundRobinStrategy();
        var backends = Backends(weights);
        const int Picks = 1 << 16;

        var counts = Counts(strategy, backends, Picks);

        long total = weights.Sum();
        for (var i = 0; i < weights.Length; i++)
        {
            var expected = (double)Picks * weights[i] / total;
            Assert.IsTrue(Math.Abs(counts[i] - expected) <= 1, $"backend {i}: {counts[i]} picks, expected {expected:F2}");
        }
    }

    [TestMethod]
    public void Pick_ThousandBackendsOfMixedWeights_SharesExactlyByWeightOverAPeriod()
    {
        var weights = Enumerable.Range(0, 1_000).Select(i => 1 + (i % 3)).ToArray();
        var pool = Pool(new WeightedRoundRobinStrategy(), TimeProvider.System, TimeSpan.Zero, weights);
        var period = weights.Sum();

        var counts = Counts(pool, period);

        Assert.AreSequenceEqual(weights, counts);
    }

    [TestMethod]
    public void Pick_AfterWarmUp_AllocatesNothing()
    {
        var pool = Pool(new WeightedRoundRobinStrategy(), TimeProvider.System, TimeSpan.Zero, 5, 1, 1);

        var allocated = AllocatedByPicks(pool.Strategy, GetSnapshot(pool));

        Assert.AreEqual(0L, allocated);
    }

    [TestMethod]
    public void Pick_LongPeriodAfterWarmUp_AllocatesNothing()
    {
        var pool = Pool(new WeightedRoundRobinStrategy(), TimeProvider.System, TimeSpan.Zero, 1_000_000, 999_999, 2);

        var allocated = AllocatedByPicks(pool.Strategy, GetSnapshot(pool));

        Assert.AreEqual(0L, allocated);
    }

    [TestMethod]
    public async Task Pick_FourThreadsAtOnce_GivesExactShares()
    {
        const int Threads = 4;
        const int PicksPerThread = 17_500;
        var pool = Pool(new WeightedRoundRobinStrategy(), TimeProvider.System, TimeSpan.Zero, 5, 1, 1);
        var snapshot = GetSnapshot(pool);
        using var start = new Barrier(Threads);
        var counts = new int[Threads][];

        var workers = Enumerable.Range(0, Threads).Select(t => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait();
                counts[t] = Counts(pool.Strategy, snapshot, PicksPerThread);
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)).ToArray();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60));

        var totals = Enumerable.Range(0, 3).Select(b => counts.Sum(c => c[b])).ToArray();
        Assert.AreSequenceEqual(new[] { 50_000, 10_000, 10_000 }, totals);
    }

    [TestMethod]
    public void Pick_NoCandidates_ReturnsNull()
    {
        Assert.IsNull(new WeightedRoundRobinStrategy().Pick([], default));
    }

    /// <summary>The pool's own snapshot array, as the sender hands it to the strategy (not a copy).</summary>
    private static BackendState[] GetSnapshot(Balancing.Pools.ServerPool pool)
        => System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsArray(pool.AvailableBackends)!;

    /// <summary>NGINX's ngx_http_upstream_get_peer, written out plainly: add weights, take the largest, subtract the total.</summary>
    private static string NginxReference(BackendState[] backends, int picks)
    {
        var current = new long[backends.Length];
        var total = backends.Sum(b => (long)b.Weight);
        var chosen = new List<string>();
        for (var step = 0; step < picks; step++)
        {
            var best = -1;
            for (var i = 0; i < backends.Length; i++)
            {
                if (backends[i].Weight == 0)
                {
                    continue;
                }

                current[i] += backends[i].Weight;
                if (best < 0 || current[i] > current[best])
                {
                    best = i;
                }
            }

            current[best] -= total;
            chosen.Add(backends[best].Id);
        }

        return string.Join(' ', chosen);
    }
}
