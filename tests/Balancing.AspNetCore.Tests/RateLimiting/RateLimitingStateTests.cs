using System.Net;
using Balancing.AspNetCore.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace Balancing.AspNetCore.Tests.RateLimiting;

[TestClass]
public sealed class RateLimitingStateTests
{
    [TestMethod]
    public void Build_ReloadWithTheSameLimit_KeepsTheLimiterAndItsCounts()
    {
        var clock = new FakeTimeProvider();
        var before = RateLimitingState.Build(Options(permits: 2), null, clock);
        var key = ClientPartitionKey.For(IPAddress.Parse("203.0.113.9"), 64);
        before.Global!.AttemptAcquire(key).Dispose();

        var after = RateLimitingState.Build(Options(permits: 2, exempt: "10.0.0.0/8"), before, clock);
        before.DisposeUnused(after);

        Assert.AreSame(before.Global, after.Global);
        Assert.AreEqual(1, after.Global!.GetStatistics(key)?.CurrentAvailablePermits);
        Assert.IsTrue(after.IsExempt(IPAddress.Parse("10.1.2.3")));
    }

    [TestMethod]
    public void Build_ReloadWithAnotherLimit_StartsAfresh()
    {
        var clock = new FakeTimeProvider();
        var before = RateLimitingState.Build(Options(permits: 2), null, clock);

        var after = RateLimitingState.Build(Options(permits: 3), before, clock);
        before.DisposeUnused(after);

        Assert.AreNotSame(before.Global, after.Global);
        Assert.AreEqual(3, after.Global!.Policy.PermitLimit);
        Assert.ThrowsExactly<ObjectDisposedException>(() => before.Global!.AttemptAcquire(UInt128.One));
    }

    [TestMethod]
    public void For_Routes_ShareOverrideOrSkipTheGlobalLimiter()
    {
        var options = Options(permits: 5);
        options.Routes["shared"] = new LoadBalancerRouteOptions { Path = "/a", Pool = "default" };
        options.Routes["own"] = new LoadBalancerRouteOptions { Path = "/b", Pool = "default", RateLimiting = { PermitLimit = 1 } };
        options.Routes["off"] = new LoadBalancerRouteOptions { Path = "/c", Pool = "default", RateLimiting = { Enabled = false } };

        var state = RateLimitingState.Build(options, null, new FakeTimeProvider());

        Assert.AreSame(state.Global, state.For("shared"));
        Assert.AreSame(state.Global, state.For(null));
        Assert.AreEqual(1, state.For("own")!.Policy.PermitLimit);
        Assert.AreEqual(RateLimitAlgorithm.TokenBucket, state.For("own")!.Policy.Algorithm);
        Assert.IsNull(state.For("off"));
    }

    [TestMethod]
    public void Build_GlobalOff_RouteOn_LimitsOnlyTheRoute()
    {
        var options = Options(permits: 5);
        options.RateLimiting.Enabled = false;
        options.Routes["login"] = new LoadBalancerRouteOptions { Path = "/login", Pool = "default", RateLimiting = { Enabled = true } };

        var state = RateLimitingState.Build(options, null, new FakeTimeProvider());

        Assert.IsTrue(state.IsActive);
        Assert.IsNull(state.Global);
        Assert.AreEqual(5, state.For("login")!.Policy.PermitLimit);
    }

    private static LoadBalancerOptions Options(int permits, string? exempt = null)
    {
        var options = new LoadBalancerOptions();
        options.RateLimiting.Enabled = true;
        options.RateLimiting.PermitLimit = permits;
        if (exempt is not null)
        {
            options.RateLimiting.ExemptNetworks.Add(exempt);
        }

        return options;
    }
}
