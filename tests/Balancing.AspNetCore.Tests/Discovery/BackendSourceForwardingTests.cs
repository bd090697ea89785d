using System.Net;
using Balancing.AspNetCore.Tests.Infrastructure;
using Balancing.Tests;
using Microsoft.Extensions.DependencyInjection;

namespace Balancing.AspNetCore.Tests.Discovery;

[TestClass]
public sealed class BackendSourceForwardingTests
{
    [TestMethod]
    public async Task UseLoadBalancer_PoolFedOnlyBySource_ForwardsToTheBackendTheSourceAnnounces()
    {
        await using var first = await TestBackend.StartAsync("first");
        await using var second = await TestBackend.StartAsync("second");
        var settings = new Dictionary<string, string?> { ["LoadBalancer:Pools:default:Strategy"] = "RoundRobin" };
        await using var balancer = await BalancerHost.StartAsync(settings, configureServices: services => services.AddLoadBalancer().AddBackendSource<ManualBackendSource>());
        var source = balancer.Services.GetRequiredService<ManualBackendSource>();

        using var before = await balancer.Client.GetAsync(new Uri("/", UriKind.Relative));
        source.Announce(new DiscoveredBackend("first", new Uri(first.Address)));
        var afterFirst = await balancer.Client.GetStringAsync(new Uri("/", UriKind.Relative));
        source.Announce(new DiscoveredBackend("second", new Uri(second.Address)));
        var afterSecond = await balancer.Client.GetStringAsync(new Uri("/", UriKind.Relative));

        Assert.AreEqual(HttpStatusCode.ServiceUnavailable, before.StatusCode, "a mounted pool fed by a source may start empty");
        Assert.AreEqual(("first", "second"), (afterFirst, afterSecond));
    }
}
