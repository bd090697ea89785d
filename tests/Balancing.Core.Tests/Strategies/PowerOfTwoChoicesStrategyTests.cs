using Balancing.Strategies;
using Microsoft.Extensions.Time.Testing;
using static Balancing.Core.Tests.Strategies.StrategyHarness;

namespace Balancing.Core.Tests.Strategies;

[TestClass]
public sealed class PowerOfTwoChoicesStrategyTests
{
    [TestMethod]
    public void Name_IsThePowerOfTwoChoicesConstant()
    {
        Assert.AreEqual(LoadStrategyNames.PowerOfTwoChoices, new PowerOfTwoChoicesStrategy().Name);
    }

    [TestMethod]
    public void Pick_TwoCandidates_AlwaysTheLessLoaded()
    {
        var backends = Backends(1, 1);
        backends[0].WithInFlight(5);

        var counts = Counts(new PowerOfTwoChoicesStrategy(new Random(1)), backends, 1_000);

        Assert.AreSequenceEqual(new[] { 0, 1_000 }, counts);
    }

    [TestMethod]
    public void Pick_ThreeCandidates_NeverTheMostLoaded()
    {
        var backends = Backends(1, 1, 1);
        backends[1].WithInFlight(4);
        backends[2].WithInFlight(1);

        var counts = Counts(new PowerOfTwoChoicesStrategy(new Random(2)), backends, 3_000);

        // a (idle) wins every pair it is in: 2 of the 3 pairs; c wins the pair {b, c}.
        Assert.AreEqual(0, counts[1]);
        Assert.IsTrue(Math.Abs(counts[0] - 2_000) < 150, $"counts {string.Join('/', counts)}");
    }

    [TestMethod]
    public void Pick_LoadComparedPerUnitOfWeight()
    {
        // a: 4 in flight / weight 8 = 0.5; b: 1 / 1 = 1. The backend with more requests but more weight is less loaded.
        var backends = Backends(8, 1);
        backends[0].WithInFlight(4);
        backends[1].WithInFlight(1);

        var counts = Counts(new PowerOfTwoChoicesStrategy(new Random(1)), backends, 1_000);

        Assert.AreSequenceEqual(new[] { 1_000, 0 }, counts);
    }

    [TestMethod]
    public void Pick_IdleBackends_ShareByWeight()
    {
        var backends = Backends(5, 1, 1);

        var counts = Counts(new PowerOfTwoChoicesStrategy(new Random(11)), backends, 70_000);

        // Standard deviations are about 120 and 90 picks; 700 is far outside them, while an unweighted choice is 26,000 off.
        Assert.IsTrue(Math.Abs(counts[0] - 50_000) < 700, $"counts {string.Join('/', counts)}");
        Assert.IsTrue(Math.Abs(counts[1] - 10_000) < 700, $"counts {string.Join('/', counts)}");
    }

    [TestMethod]
    public void Pick_RetrySubsetOfAPool_StillChoosesByWeightAndLoad()
    {
        var pool = Pool(new PowerOfTwoChoicesStrategy(new Random(4)), new FakeTimeProvider(Start), TimeSpan.Zero, 1, 3, 1);
        BackendState[] subset = [pool.Backends[1], pool.Backends[2]];

        var idle = Counts(pool.Strategy, subset, 1_000);
        pool.Backends[1].WithInFlight(10);
        var loaded = Counts(pool.Strategy, subset, 1_000);

        Assert.AreEqual(0, idle[0] + idle[1] - 1_000);
        Assert.IsTrue(Math.Abs(idle[0] - 750) < 80, $"idle counts {idle[0]}/{idle[1]}");
        Assert.AreSequenceEqual(new[] { 0, 1_000 }, loaded);
    }

    [TestMethod]
    public void Pick_AfterWarmUp_AllocatesNothing()
    {
        var pool = Pool(new PowerOfTwoChoicesStrategy(), TimeProvider.System, TimeSpan.Zero, 1, 2, 3);

        var allocated = AllocatedByPicks(pool.Strategy, System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsArray(pool.AvailableBackends)!);

        Assert.AreEqual(0L, allocated);
    }

    [TestMethod]
    public void Pick_OneCandidate_ReturnsIt()
    {
        var backends = Backends(1);

        Assert.AreSame(backends[0], new PowerOfTwoChoicesStrategy().Pick(backends, default));
    }
}
