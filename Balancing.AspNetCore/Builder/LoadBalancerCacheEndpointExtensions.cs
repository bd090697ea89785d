using System.Globalization;
using Balancing.AspNetCore;
using Balancing.AspNetCore.Admin;
using Balancing.AspNetCore.Caching;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the response cache's purge endpoint.</summary>
public static class LoadBalancerCacheEndpointExtensions
{
    /// <summary>
    /// Answers <c>DELETE <paramref name="pattern"/></c> by emptying the response cache, or, with <c>?prefix=/path</c>, by
    /// removing the stored responses whose request target (path and query) starts with that prefix, in every pool and for
    /// every host. The answer is JSON: <c>{"removed": n}</c>, the number of entries removed. Answers loopback clients only,
    /// with 403 for any other, unless the app chains
    /// <see cref="LoadBalancerAdminEndpointExtensions.AllowRemoteAccess{TBuilder}(TBuilder)"/>.
    /// </summary>
    /// <param name="endpoints">The app's endpoints.</param>
    /// <param name="pattern">The route pattern.</param>
    /// <returns>A builder to add conventions such as <c>AllowRemoteAccess()</c> or <c>RequireAuthorization()</c>.</returns>
    /// <exception cref="InvalidOperationException"><c>AddLoadBalancer()</c> was not called.</exception>
    public static IEndpointConventionBuilder MapLoadBalancerCachePurge(this IEndpointRouteBuilder endpoints, string pattern = "/_lb/cache")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        LoadBalancerMarker.EnsureRegistered(endpoints.ServiceProvider, "MapLoadBalancerCachePurge()");
        var cache = endpoints.ServiceProvider.GetRequiredService<ResponseCache>();

        var builder = endpoints.MapDelete(pattern, context => PurgeAsync(context, cache))
            .WithDisplayName($"LoadBalancer cache purge {pattern}");
        return AdminEndpoint.LoopbackOnlyUnlessOpened(builder);
    }

    private static Task PurgeAsync(HttpContext context, ResponseCache cache)
    {
        var prefix = context.Request.Query["prefix"].ToString();
        if (prefix.Length > 0 && prefix[0] != '/')
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return context.Response.WriteAsync("The prefix must be a path starting with '/'.", context.RequestAborted);
        }

        var removed = cache.Purge(prefix);
        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"{{\"removed\":{removed}}}"), context.RequestAborted);
    }
}
