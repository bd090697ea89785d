using Balancing.Strategies;
using static Balancing.Core.Tests.Strategies.StrategyHarness;

namespace Balancing.Core.Tests.Strategies;

[TestClass]
public sealed class LeastConnectionsStrategyTests
{
    [TestMethod]
    public void Name_IsTheLeastConnectionsConstant()
    {
        Assert.AreEqual(LoadStrategyNames.LeastConnections, new LeastConnectionsStrategy().Name);
    }

    [TestMethod]
    public void Pick_UnevenLoad_AlwaysTheLeastLoaded()
    {
        var backends = Backends(1, 1, 1);
        backends[0].WithInFlight(3);
        backends[1].WithInFlight(1);
        backends[2].WithInFlight(2);

        var counts = Counts(new LeastConnectionsStrategy(new Random(1)), backends, 100);

        Assert.AreSequenceEqual(new[] { 0, 100, 0 }, counts);
    }

    [TestMethod]
    public void Pick_WeightedBackends_ComparesInFlightPerUnitOfWeight()
    {
        // a: 3 in flight / weight 4 = 0.75 per unit; b: 1 / 1 = 1; c: 5 / 4 = 1.25. Fewest in flight is b, least loaded is a.
        var backends = Backends(4, 1, 4);
        backends[0].WithInFlight(3);
        backends[1].WithInFlight(1);
        backends[2].WithInFlight(5);

        var counts = Counts(new LeastConnectionsStrategy(new Random(1)), backends, 100);

        Assert.AreSequenceEqual(new[] { 100, 0, 0 }, counts);
    }

    [TestMethod]
    public void Pick_IdleEqualBackends_ShareEvenly()
    {
        var backends = Backends(1, 1, 1);

        var counts = Counts(new LeastConnectionsStrategy(new Random(7)), backends, 30_000);

        // Binomial spread is about 82 picks; 400 is far outside it, while always choosing one backend is 20,000 off.
        foreach (var count in counts)
        {
            Assert.IsTrue(Math.Abs(count - 10_000) < 400, $"counts {string.Join('/', counts)}");
        }
    }

    [TestMethod]
    public void Pick_IdleWeightedBackends_ShareByWeight()
    {
        var backends = Backends(3, 1);

        var counts = Counts(new LeastConnectionsStrategy(new Random(7)), backends, 40_000);

        Assert.IsTrue(Math.Abs(counts[0] - 30_000) < 500, $"counts {string.Join('/', counts)}");
    }

    [TestMethod]
    public void Pick_TieAmongTheLeastLoaded_SpreadsOverThoseOnly()
    {
        var backends = Backends(1, 1, 1);
        backends[0].WithInFlight(1);

        var counts = Counts(new LeastConnectionsStrategy(new Random(3)), backends, 20_000);

        Assert.AreEqual(0, counts[0]);
        Assert.IsTrue(Math.Abs(counts[1] - 10_000) < 400, $"counts {string.Join('/', counts)}");
    }

    [TestMethod]
    public void Pick_LoadFollowsPicks_InFlightStaysWithinOneOfEachOther()
    {
        // Requests that never finish: least connections must hand them out so that counts never drift apart.
        var backends = Backends(1, 1, 1, 1);
        var strategy = new LeastConnectionsStrategy(new Random(5));

        for (var i = 0; i < 1_000; i++)
        {
            strategy.Pick(backends, default)!.RequestStarted();
            var spread = backends.Max(b => b.InFlight) - backends.Min(b => b.InFlight);
            Assert.IsLessThanOrEqualTo(1, spread, $"after {i + 1} requests");
        }
    }

    [TestMethod]
    public void Pick_AfterWarmUp_AllocatesNothing()
    {
        var allocated = AllocatedByPicks(new LeastConnectionsStrategy(), Backends(1, 2, 3));

        Assert.AreEqual(0L, allocated);
    }

    [TestMethod]
    public void Pick_NoCandidates_ReturnsNull()
    {
        Assert.IsNull(new LeastConnectionsStrategy().Pick([], default));
    }
}
