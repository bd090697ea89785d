using Balancing.AspNetCore;
using Balancing.AspNetCore.Admin;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the Prometheus scrape endpoint of the load balancer.</summary>
public static class LoadBalancerMetricsEndpointExtensions
{
    /// <summary>
    /// Maps the Prometheus text exposition of the <c>Balancing</c> meter together with the ASP.NET Core, <c>HttpClient</c>
    /// and runtime meters of the app, produced by the OpenTelemetry Prometheus exporter. Answers loopback clients only unless
    /// <see cref="LoadBalancerAdminEndpointExtensions.AllowRemoteAccess{TBuilder}(TBuilder)"/> opens it.
    /// </summary>
    /// <param name="endpoints">The app's endpoints.</param>
    /// <param name="pattern">The path, <c>/metrics</c> by default.</param>
    /// <returns>A builder to add conventions such as <c>RequireAuthorization()</c> or <c>RequireHost()</c>.</returns>
    /// <exception cref="InvalidOperationException"><c>AddLoadBalancer()</c> was not called.</exception>
    public static IEndpointConventionBuilder MapLoadBalancerMetrics(this IEndpointRouteBuilder endpoints, string pattern = "/metrics")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        LoadBalancerMarker.EnsureRegistered(endpoints.ServiceProvider, "MapLoadBalancerMetrics()");
        var metrics = endpoints.ServiceProvider.GetRequiredService<PrometheusMetrics>();
        return AdminEndpoint.LoopbackOnlyUnlessOpened(endpoints.MapPrometheusScrapingEndpoint(pattern, metrics.Provider, configureBranchedPipeline: null, optionsName: null))
            .WithDisplayName("LoadBalancer metrics");
    }
}
