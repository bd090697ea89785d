using Balancing;
using Balancing.AspNetCore;
using Balancing.AspNetCore.Dashboard;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the load balancer's live web dashboard.</summary>
public static class LoadBalancerDashboardEndpointExtensions
{
    /// <summary>
    /// Maps a live dashboard of every pool and backend at <paramref name="pattern"/>: health and since when, weight,
    /// in-flight requests, request and error rates, latency percentiles, breaker state and ejections, with charts of the
    /// last five minutes, refreshed every second. The page is self-contained (its files are embedded in this assembly, it
    /// loads nothing from elsewhere) and reads its figures from <c>{pattern}/stats.json</c>, the JSON of
    /// <see cref="LoadBalancerStatsEndpointExtensions.MapLoadBalancerStats"/>, so it needs no other endpoint. Described in
    /// docs/DASHBOARD.md. Answers loopback clients only, with 403 for any other, unless the app chains
    /// <see cref="LoadBalancerAdminEndpointExtensions.AllowRemoteAccess{TBuilder}(TBuilder)"/>.
    /// </summary>
    /// <param name="endpoints">The app's endpoints.</param>
    /// <param name="pattern">The path of the page, <c>/_lb</c> by default; its data and files are served under it.</param>
    /// <returns>
    /// The route group of the page, its data and its files: a convention added to it, such as <c>AllowRemoteAccess()</c> or
    /// <c>RequireAuthorization()</c>, applies to all of them.
    /// </returns>
    /// <exception cref="InvalidOperationException"><c>AddLoadBalancer()</c> was not called.</exception>
    public static IEndpointConventionBuilder MapLoadBalancerDashboard(this IEndpointRouteBuilder endpoints, string pattern = "/_lb")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        LoadBalancerMarker.EnsureRegistered(endpoints.ServiceProvider, "MapLoadBalancerDashboard()");
        var statistics = endpoints.ServiceProvider.GetRequiredService<ILoadBalancerStatistics>();
        return DashboardEndpoints.Map(endpoints, pattern, statistics);
    }
}
