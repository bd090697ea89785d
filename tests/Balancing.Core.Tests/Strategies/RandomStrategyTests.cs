using Balancing.Strategies;
using static Balancing.Core.Tests.Strategies.StrategyHarness;

namespace Balancing.Core.Tests.Strategies;

[TestClass]
public sealed class RandomStrategyTests
{
    [TestMethod]
    public void Name_IsTheRandomConstant()
    {
        Assert.AreEqual(LoadStrategyNames.Random, new RandomStrategy().Name);
    }

    [TestMethod]
    public void Pick_SharesByWeight()
    {
        var backends = Backends(5, 1, 1);

        var counts = Counts(new RandomStrategy(new Random(3)), backends, 70_000);

        // Standard deviations are about 120 and 90 picks; an unweighted choice would be 26,000 off.
        Assert.IsTrue(Math.Abs(counts[0] - 50_000) < 700, $"counts {string.Join('/', counts)}");
        Assert.IsTrue(Math.Abs(counts[1] - 10_000) < 700, $"counts {string.Join('/', counts)}");
        Assert.IsTrue(Math.Abs(counts[2] - 10_000) < 700, $"counts {string.Join('/', counts)}");
    }

    [TestMethod]
    public void Pick_WeightZero_NeverChosen()
    {
        var backends = Backends(1, 0, 1);

        var counts = Counts(new RandomStrategy(new Random(3)), backends, 10_000);

        Assert.AreEqual(0, counts[1]);
    }

    [TestMethod]
    public void Pick_RetrySubsetOfAPool_SharesByWeight()
    {
        var pool = Pool(new RandomStrategy(new Random(9)), TimeProvider.System, TimeSpan.Zero, 1, 1, 4);
        BackendState[] subset = [pool.Backends[0], pool.Backends[2]];

        var counts = Counts(pool.Strategy, subset, 10_000);

        Assert.IsTrue(Math.Abs(counts[1] - 8_000) < 250, $"counts {counts[0]}/{counts[1]}");
    }

    [TestMethod]
    public void Pick_AfterWarmUp_AllocatesNothing()
    {
        var pool = Pool(new RandomStrategy(), TimeProvider.System, TimeSpan.Zero, 1, 2, 3);

        var allocated = AllocatedByPicks(pool.Strategy, System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsArray(pool.AvailableBackends)!);

        Assert.AreEqual(0L, allocated);
    }

    [TestMethod]
    public void Pick_NoCandidates_ReturnsNull()
    {
        Assert.IsNull(new RandomStrategy().Pick([], default));
    }
}
