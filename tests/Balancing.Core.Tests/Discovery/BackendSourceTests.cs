using System.Net;
using Balancing.Core.Tests.Infrastructure;
using Balancing.Tests;
using Microsoft.Extensions.DependencyInjection;

namespace Balancing.Core.Tests.Discovery;

[TestClass]
public sealed class BackendSourceTests
{
    [TestMethod]
    public async Task AddBackendSource_SourceSignalsChange_PoolForwardsToTheNewBackend()
    {
        var handler = new FakeHttpHandler();
        using var balancer = CreateWithSource(new Dictionary<string, string?> { ["LoadBalancer:Pools:default:Strategy"] = "RoundRobin" }, handler);
        var source = balancer.Services.GetRequiredService<ManualBackendSource>();
        var pool = balancer.Pool();
        Assert.AreEqual(ForwardError.NoAvailableBackend, (await SendAsync(balancer)).Error);

        source.Announce(new DiscoveredBackend("c1", new Uri("http://c1.test:9000")));
        var first = await SendAsync(balancer);
        source.Announce(new DiscoveredBackend("c2", new Uri("http://c2.test:9000")));
        var second = await SendAsync(balancer);

        Assert.AreEqual(("c1", "c2"), (first.Backend?.Id, second.Backend?.Id));
        CollectionAssert.AreEqual(
            new[] { "http://c1.test:9000/", "http://c2.test:9000/" },
            handler.RequestUris.Select(u => u?.ToString()).ToArray());
        Assert.AreEqual("c2", pool.Backends.Single().Id);
    }

    [TestMethod]
    public void AddBackendSource_BackendKeepsIdAndAddress_KeepsItsState()
    {
        using var balancer = CreateWithSource(Settings.Pool("default", ("b1", "http://b1.test")));
        var source = balancer.Services.GetRequiredService<ManualBackendSource>();
        var pool = balancer.Pool();
        source.Announce(new DiscoveredBackend("c1", new Uri("http://c1.test")));
        var c1 = pool.FindBackend("c1")!;
        c1.SetHealth(BackendHealth.Unhealthy, "test", DateTimeOffset.UnixEpoch);

        source.Announce(new DiscoveredBackend("c1", new Uri("http://c1.test"), Weight: 3), new DiscoveredBackend("c2", new Uri("http://c2.test")));

        CollectionAssert.AreEqual(new[] { "b1", "c1", "c2" }, pool.Backends.Select(b => b.Id).ToArray());
        Assert.AreSame(c1, pool.FindBackend("c1"));
        Assert.AreEqual((BackendHealth.Unhealthy, 3), (c1.Health, c1.Weight));
    }

    [TestMethod]
    public void AddBackendSource_BackendKnownAtStart_IsInServiceFromTheStartLikeConfiguredOnes()
    {
        using var balancer = CreateWithSource(Settings.Pool("default", ("b1", "http://b1.test")).With("LoadBalancer:Pools:default:SlowStart", "00:01:00"));
        balancer.Services.GetRequiredService<ManualBackendSource>().Announce(new DiscoveredBackend("c1", new Uri("http://c1.test")));

        var pool = balancer.Pool();

        Assert.AreEqual(2, pool.Backends.Length);
        Assert.IsTrue(pool.Backends.All(b => b.InServiceSince is null), "nothing ramps: the pool started with both");
    }

    [TestMethod]
    public void AddBackendSource_IdTakenByAConfiguredBackend_IsIgnored()
    {
        using var balancer = CreateWithSource(Settings.Pool("default", ("b1", "http://b1.test")));
        var source = balancer.Services.GetRequiredService<ManualBackendSource>();
        var pool = balancer.Pool();

        source.Announce(new DiscoveredBackend("B1", new Uri("http://elsewhere.test")), new DiscoveredBackend("c1", new Uri("ftp://c1.test")));

        Assert.AreEqual(new Uri("http://b1.test"), pool.Backends.Single().Address);
    }

    private static TestBalancer CreateWithSource(Dictionary<string, string?> settings, FakeHttpHandler? handler = null)
        => TestBalancer.Create(settings, services =>
        {
            new LoadBalancerBuilder(services).AddBackendSource<ManualBackendSource>();
            if (handler is not null)
            {
                services.AddHttpClient(LoadBalancerDefaults.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => handler);
            }
        });

    private static async Task<BalancedResponse> SendAsync(TestBalancer balancer)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/", UriKind.Relative));
        var result = await balancer.Sender.SendAsync(balancer.Pool(), request, new BalancingContext(null), CancellationToken.None);
        result.Complete(BackendOutcome.Success);
        result.Response?.Dispose();
        return result;
    }
}
