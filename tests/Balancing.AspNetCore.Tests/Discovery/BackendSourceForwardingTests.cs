using System.Net;
using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;

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
        await using var balancer = await BalancerHost.StartAsync(settings, configureServices: services => services.AddLoadBalancer().AddBackendSource<AnnouncingSource>());
        var source = balancer.Services.GetRequiredService<AnnouncingSource>();

        using var before = await balancer.Client.GetAsync(new Uri("/", UriKind.Relative));
        source.Announce(new DiscoveredBackend("first", new Uri(first.Address)));
        var afterFirst = await balancer.Client.GetStringAsync(new Uri("/", UriKind.Relative));
        source.Announce(new DiscoveredBackend("second", new Uri(second.Address)));
        var afterSecond = await balancer.Client.GetStringAsync(new Uri("/", UriKind.Relative));

        Assert.AreEqual(HttpStatusCode.ServiceUnavailable, before.StatusCode, "a mounted pool fed by a source may start empty");
        Assert.AreEqual(("first", "second"), (afterFirst, afterSecond));
    }

    /// <summary>Announces the backends of pool <c>default</c>, firing the previous snapshot's token on each change.</summary>
    private sealed class AnnouncingSource : IBackendSource, IDisposable
    {
        private readonly Lock _lock = new();
        private CancellationTokenSource _changed = new();
        private DiscoveredBackend[] _backends = [];

        public void Announce(params DiscoveredBackend[] backends)
        {
            CancellationTokenSource fired;
            lock (_lock)
            {
                _backends = backends;
                fired = _changed;
                _changed = new CancellationTokenSource();
            }

            fired.Cancel();
        }

        public BackendSnapshot GetSnapshot()
        {
            lock (_lock)
            {
                return new BackendSnapshot(
                    new Dictionary<string, IReadOnlyList<DiscoveredBackend>> { ["default"] = _backends },
                    new CancellationChangeToken(_changed.Token));
            }
        }

        public void Dispose() => _changed.Dispose();
    }
}
