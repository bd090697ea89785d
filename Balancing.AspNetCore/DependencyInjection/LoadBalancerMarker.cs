using Balancing.Pools;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Balancing.AspNetCore;

/// <summary>Registered by <c>AddLoadBalancer()</c>, so <c>Use*</c>/<c>Map*</c> can tell that it was called.</summary>
internal sealed class LoadBalancerMarker
{
    public static void EnsureRegistered(IServiceProvider services, string caller)
    {
        if (services.GetService<LoadBalancerMarker>() is null)
        {
            throw new InvalidOperationException(
                $"Unable to find the load balancer's services, which {caller} needs. " +
                "Call 'builder.Services.AddLoadBalancer()' before building the app.");
        }
    }
}

/// <summary>Resolves the pool registry while the host starts, so invalid configuration stops start-up.</summary>
internal sealed class LoadBalancerStartupValidation(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = services.GetRequiredService<ServerPoolRegistry>();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
