using Balancing;
using Balancing.AspNetCore;
using Balancing.AspNetCore.Admin;
using Balancing.AspNetCore.Statistics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the load balancer's statistics endpoint.</summary>
public static class LoadBalancerStatsEndpointExtensions
{
    /// <summary>
    /// Answers <c>GET <paramref name="pattern"/></c> with the balancer's statistics as JSON: per pool and per backend, request
    /// rates and error rates over the last 10 seconds and minute, latency percentiles, retries, ejections, error-rate alerts
    /// and the live backend state (health, weight, in-flight requests, breaker, last probe). The format is described in
    /// docs/STATS.md. Answers loopback clients only, with 403 for any other, unless the app chains
    /// <see cref="LoadBalancerAdminEndpointExtensions.AllowRemoteAccess{TBuilder}(TBuilder)"/>.
    /// </summary>
    /// <param name="endpoints">The app's endpoints.</param>
    /// <param name="pattern">The route pattern.</param>
    /// <returns>A builder to add conventions such as <c>AllowRemoteAccess()</c> or <c>RequireAuthorization()</c>.</returns>
    /// <exception cref="InvalidOperationException"><c>AddLoadBalancer()</c> was not called.</exception>
    public static IEndpointConventionBuilder MapLoadBalancerStats(this IEndpointRouteBuilder endpoints, string pattern = "/_lb/stats")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        LoadBalancerMarker.EnsureRegistered(endpoints.ServiceProvider, "MapLoadBalancerStats()");
        var statistics = endpoints.ServiceProvider.GetRequiredService<ILoadBalancerStatistics>();

        var builder = endpoints.MapGet(pattern, context => WriteAsync(context, statistics))
            .WithDisplayName($"LoadBalancer stats {pattern}");
        return AdminEndpoint.LoopbackOnlyUnlessOpened(builder);
    }

    /// <summary>Writes a fresh snapshot as JSON; the dashboard serves its data through the same method.</summary>
    internal static Task WriteAsync(HttpContext context, ILoadBalancerStatistics statistics)
    {
        var snapshot = statistics.GetSnapshot();

        // Live figures: no cache between the balancer and whoever watches them may keep a copy.
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsJsonAsync(snapshot, StatsJsonContext.Default.LoadBalancerStatistics, contentType: null, context.RequestAborted);
    }
}
