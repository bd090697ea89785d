using Balancing.AspNetCore.Admin;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace Balancing.AspNetCore.Dashboard;

/// <summary>
/// The dashboard's three endpoints, in one route group so a convention chained on the group (authorization, remote
/// access, host) covers all of them: the page at the pattern, its statistics at <c>{pattern}/stats.json</c> and its
/// files at <c>{pattern}/assets/{name}</c>.
/// </summary>
internal static class DashboardEndpoints
{
    /// <summary>
    /// Scripts, styles, images and requests from the balancer's own origin only: no inline script or style, no plugin, no
    /// framing (clickjacking), no form posts, no <c>&lt;base&gt;</c> rewriting.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>The page revalidates on every load, so a new library version shows at once.</summary>
    public const string PageCacheControl = "no-cache";

    /// <summary>Assets are requested with their version in the URL, so a browser may keep them; <c>private</c> because the page may sit behind authorization.</summary>
    public const string AssetCacheControl = "private, max-age=86400";

    public static RouteGroupBuilder Map(IEndpointRouteBuilder endpoints, string pattern, ILoadBalancerStatistics statistics)
    {
        var group = endpoints.MapGroup(pattern);
        group.MapGet(string.Empty, WritePageAsync).WithDisplayName($"LoadBalancer dashboard {pattern}");
        group.MapGet("/stats.json", context =>
            {
                AddSecurityHeaders(context.Response);
                return LoadBalancerStatsEndpointExtensions.WriteAsync(context, statistics);
            })
            .WithDisplayName($"LoadBalancer dashboard stats {pattern}");
        group.MapGet("/assets/{name}", WriteAssetAsync).WithDisplayName($"LoadBalancer dashboard assets {pattern}");
        return AdminEndpoint.LoopbackOnlyUnlessOpened(group);
    }

    private static Task WritePageAsync(HttpContext context)
    {
        // The page's own path is the base of its assets and data; a trailing slash does not change it.
        var basePath = (context.Request.PathBase + context.Request.Path).ToUriComponent().TrimEnd('/');
        var content = DashboardPage.Render(basePath);
        var response = context.Response;
        AddSecurityHeaders(response);
        response.ContentType = DashboardAssets.Page.ContentType;
        response.Headers.CacheControl = PageCacheControl;
        response.ContentLength = content.Length;
        return response.Body.WriteAsync(content, context.RequestAborted).AsTask();
    }

    private static Task WriteAssetAsync(HttpContext context)
    {
        var response = context.Response;
        AddSecurityHeaders(response);
        var asset = DashboardAssets.Find(context.GetRouteValue("name") as string);
        if (asset is null)
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            response.Headers.CacheControl = "no-store";
            return Task.CompletedTask;
        }

        response.Headers.CacheControl = AssetCacheControl;
        response.Headers.ETag = asset.ETag;
        if (IsCurrent(context.Request, asset))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        response.ContentType = asset.ContentType;
        response.ContentLength = asset.Content.Length;
        return response.Body.WriteAsync(asset.Content, context.RequestAborted).AsTask();
    }

    private static bool IsCurrent(HttpRequest request, DashboardAsset asset)
    {
        var tags = request.GetTypedHeaders().IfNoneMatch;
        return tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || string.Equals(t.Tag.Value, asset.ETag, StringComparison.Ordinal));
    }

    private static void AddSecurityHeaders(HttpResponse response)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
    }
}
