using Balancing.AspNetCore.Admin;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Conventions for the load balancer's admin endpoints (metrics, stats, dashboard).</summary>
public static class LoadBalancerAdminEndpointExtensions
{
    /// <summary>
    /// Opens a load balancer admin endpoint to clients other than the local machine. By default such an endpoint answers
    /// 403 to any client that is not on loopback. Put authorization in front of it when you open it:
    /// <c>app.MapLoadBalancerStats().AllowRemoteAccess().RequireAuthorization("ops")</c>.
    /// </summary>
    /// <typeparam name="TBuilder">The endpoint convention builder.</typeparam>
    /// <param name="builder">The builder an admin <c>MapLoadBalancer...()</c> method returned.</param>
    /// <returns>The same builder.</returns>
    public static TBuilder AllowRemoteAccess<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.WithMetadata(AllowRemoteAdminAccess.Instance);
    }
}
