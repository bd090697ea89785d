using Balancing;
using Balancing.AspNetCore;
using Balancing.AspNetCore.Forwarding;
using Balancing.AspNetCore.Routing;
using Balancing.Pools;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Mounts the load balancer in the request pipeline.</summary>
public static class LoadBalancerApplicationBuilderExtensions
{
    /// <summary>
    /// Forwards every request that no endpoint handled. With routes configured (<c>LoadBalancer:Routes</c>), each goes to
    /// the pool of the best matching route, and a request no route matches gets 404; without routes, every request goes
    /// to the pool named <c>default</c>. Endpoints mapped by the app (health, metrics, dashboard, <c>MapLoadBalancer</c>)
    /// keep working; everything else is balanced.
    /// </summary>
    /// <param name="app">The app.</param>
    /// <returns>The app, for chaining.</returns>
    /// <exception cref="InvalidOperationException"><c>AddLoadBalancer()</c> was not called.</exception>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">No routes are configured, and pool <c>default</c> is missing or empty.</exception>
    public static IApplicationBuilder UseLoadBalancer(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        LoadBalancerMarker.EnsureRegistered(app.ApplicationServices, "UseLoadBalancer()");
        var router = app.ApplicationServices.GetRequiredService<LoadBalancerRouter>();
        router.MountDefault();
        return UseForwarding(app, router, fallbackPool: null);
    }

    /// <summary>
    /// Forwards every request that no endpoint handled to the pool <paramref name="poolName"/>, except those a configured
    /// route (<c>LoadBalancer:Routes</c>) sends elsewhere: the pool catches what no route matches.
    /// </summary>
    /// <param name="app">The app.</param>
    /// <param name="poolName">The pool to forward to.</param>
    /// <returns>The app, for chaining.</returns>
    /// <exception cref="InvalidOperationException"><c>AddLoadBalancer()</c> was not called, or the pool is missing or empty.</exception>
    public static IApplicationBuilder UseLoadBalancer(this IApplicationBuilder app, string poolName)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentException.ThrowIfNullOrEmpty(poolName);
        LoadBalancerMarker.EnsureRegistered(app.ApplicationServices, "UseLoadBalancer()");
        app.ApplicationServices.GetRequiredService<ServerPoolRegistry>().Mount(poolName);
        return UseForwarding(app, app.ApplicationServices.GetRequiredService<LoadBalancerRouter>(), poolName);
    }

    private static IApplicationBuilder UseForwarding(IApplicationBuilder app, LoadBalancerRouter router, string? fallbackPool)
    {
        var forwarder = app.ApplicationServices.GetRequiredService<HttpForwarder>();
        return app.Use(next => context =>
        {
            if (context.GetEndpoint() is { RequestDelegate: not null })
            {
                return next(context);
            }

            var pool = router.Match(context, fallbackPool, out var route);
            return pool is null ? router.WriteNotFoundAsync(context) : forwarder.ForwardAsync(context, pool, route);
        });
    }

    /// <summary>Forwards requests that match <paramref name="pattern"/> (any method) to the pool <paramref name="poolName"/>.</summary>
    /// <param name="endpoints">The app's endpoints.</param>
    /// <param name="pattern">The route pattern, for example <c>/api/{**rest}</c>. The path is forwarded whole, prefix included.</param>
    /// <param name="poolName">The pool to forward to.</param>
    /// <returns>A builder to add conventions such as <c>RequireAuthorization()</c> or <c>RequireHost()</c>.</returns>
    /// <exception cref="InvalidOperationException"><c>AddLoadBalancer()</c> was not called, or the pool is missing or empty.</exception>
    public static IEndpointConventionBuilder MapLoadBalancer(this IEndpointRouteBuilder endpoints, string pattern, string poolName)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        ArgumentException.ThrowIfNullOrEmpty(poolName);
        LoadBalancerMarker.EnsureRegistered(endpoints.ServiceProvider, "MapLoadBalancer()");
        endpoints.ServiceProvider.GetRequiredService<ServerPoolRegistry>().Mount(poolName);
        var forwarder = endpoints.ServiceProvider.GetRequiredService<HttpForwarder>();

        return endpoints.Map(pattern, context => forwarder.ForwardAsync(context, poolName))
            .WithDisplayName($"LoadBalancer {pattern} -> {poolName}");
    }
}
