using Balancing;
using Balancing.Client;
using Balancing.Pools;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Client-side balancing: an <see cref="System.Net.Http.HttpClient"/> that spreads its calls over a pool's backends.</summary>
public static class LoadBalancerHttpClientBuilderExtensions
{
    /// <summary>
    /// Makes the client balance over the pool <paramref name="poolName"/>: a request addressed to
    /// <c>http://{poolName}/path?query</c> is sent straight to one of the pool's backends (no proxy hop), chosen by the
    /// pool's strategy, with its health checks, circuit breakers, retries with failover and timeouts. The path and
    /// query follow the backend's address. A request addressed to any other host throws
    /// <see cref="InvalidOperationException"/>.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The balancer becomes the client's primary handler; handlers added with <c>AddHttpMessageHandler</c> still run,
    /// once per call, around every attempt the balancer makes. A later <c>ConfigurePrimaryHttpMessageHandler</c> on
    /// the same client replaces the balancer.
    /// </para>
    /// <para>
    /// The engine must be registered: <c>services.AddLoadBalancerCore(...)</c> (or <c>AddLoadBalancer(...)</c> in an
    /// ASP.NET Core app). Otherwise creating the client throws <see cref="InvalidOperationException"/>. Creating it
    /// also mounts the pool: it must exist and have a backend, and a reload that removes or empties it is rejected.
    /// </para>
    /// </remarks>
    /// <param name="builder">The client's builder, from <c>services.AddHttpClient(name)</c>.</param>
    /// <param name="poolName">The pool to balance over; also the host name the client's requests are addressed to.</param>
    /// <returns>The builder, for chaining.</returns>
    public static IHttpClientBuilder AddLoadBalancing(this IHttpClientBuilder builder, string poolName)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(poolName);
        var clientName = builder.Name;
        builder.ConfigurePrimaryHttpMessageHandler(services =>
        {
            if (services.GetService<ServerPoolRegistry>() is not { } registry || services.GetService<BalancedSender>() is not { } sender)
            {
                throw new InvalidOperationException(
                    $"The HttpClient '{clientName}' balances over pool '{poolName}', but the load balancer's services are not registered. " +
                    "Call 'services.AddLoadBalancerCore()' (or 'services.AddLoadBalancer()' in an ASP.NET Core app) when registering services.");
            }

            registry.Mount(poolName);
            return new LoadBalancingHttpHandler(registry, sender, poolName, services.GetRequiredService<TimeProvider>());
        });

        return builder;
    }
}
