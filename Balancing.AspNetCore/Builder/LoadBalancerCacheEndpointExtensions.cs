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
    /// every host. The answer is JSON: <c>{"removed": n}</c>, the number of entries removed. With a shared store
    /// (<c>Balancing.Redis</c>) the purge also empties the store and every other instance's memory for the same prefix,
    /// and the answer adds <c>"sharedRemoved"</c>: the entries removed from the store, or <c>null</c> when it could not be
    /// reached (the other instances keep their copies until they expire then). Answers loopback clients only,
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

        var shared = endpoints.ServiceProvider.GetService<ISecondLevelCache>() is not null;
        var builder = endpoints.MapDelete(pattern, context => PurgeAsync(context, cache, shared))
            .WithDisplayName($"LoadBalancer cache purge {pattern}");
        return AdminEndpoint.LoopbackOnlyUnlessOpened(builder);
    }

    private static async Task PurgeAsync(HttpContext context, ResponseCache cache, bool shared)
    {
        var prefix = context.Request.Query["prefix"].ToString();
        if (prefix.Length > 0 && prefix[0] != '/')
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("The prefix must be a path starting with '/'.", context.RequestAborted).ConfigureAwait(false);
            return;
        }

        var (removed, sharedRemoved) = await cache.PurgeEverywhereAsync(prefix.Length == 0 ? null : prefix, context.RequestAborted).ConfigureAwait(false);
        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentType = "application/json";

        // With a shared store, "sharedRemoved" says what left it, or null when it could not be reached (the other
        // instances were not told then).
        var body = !shared
            ? string.Create(CultureInfo.InvariantCulture, $"{{\"removed\":{removed}}}")
            : string.Create(CultureInfo.InvariantCulture, $"{{\"removed\":{removed},\"sharedRemoved\":{(sharedRemoved is { } n ? n.ToString(CultureInfo.InvariantCulture) : "null")}}}");
        await context.Response.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }
}
