using Balancing.Pools;
using Microsoft.Extensions.Hosting;

namespace Balancing.Discovery;

/// <summary>
/// Holds host start-up until every DNS-discovered name has had its first answer, so the server does not open with pools
/// whose discovered backends are still unknown. A name that fails to resolve does not block: its entry starts empty.
/// </summary>
internal sealed class DnsDiscoveryStartup(IServiceProvider services, DnsBackendSource source) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Resolving the registry applies the configuration, which starts the lookups.
        _ = services.GetService(typeof(ServerPoolRegistry));
        await source.WhenResolvedAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
