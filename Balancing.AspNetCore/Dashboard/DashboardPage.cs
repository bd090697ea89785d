using System.Text;
using System.Text.Encodings.Web;

namespace Balancing.AspNetCore.Dashboard;

/// <summary>
/// The page: the embedded template with the URLs of its stylesheet, script and icon filled in. The URLs are absolute
/// paths under the path the page was requested at, so the page works under any pattern and path base, with or without a
/// trailing slash, and each carries its file's version so a browser never mixes files of two library versions.
/// </summary>
internal static class DashboardPage
{
    // The rendering for the last base path: in practice there is one per app, so one entry is the whole cache.
    private static volatile Rendered? _last;

    /// <summary>The page's bytes for a dashboard whose endpoints are under <paramref name="basePath"/> (no trailing slash).</summary>
    public static ReadOnlyMemory<byte> Render(string basePath)
    {
        var last = _last;
        if (last is not null && string.Equals(last.BasePath, basePath, StringComparison.Ordinal))
        {
            return last.Content;
        }

        var html = Encoding.UTF8.GetString(DashboardAssets.Page.Content.Span)
            .Replace("{{css}}", AssetUrl(basePath, "dashboard.css"), StringComparison.Ordinal)
            .Replace("{{js}}", AssetUrl(basePath, "dashboard.js"), StringComparison.Ordinal)
            .Replace("{{icon}}", AssetUrl(basePath, "favicon.svg"), StringComparison.Ordinal)
            .Replace("{{stats}}", HtmlEncoder.Default.Encode(basePath + "/stats.json"), StringComparison.Ordinal);
        var rendered = new Rendered(basePath, Encoding.UTF8.GetBytes(html));
        _last = rendered;
        return rendered.Content;
    }

    private static string AssetUrl(string basePath, string name)
        => HtmlEncoder.Default.Encode($"{basePath}/assets/{name}?v={DashboardAssets.Served[name].Version}");

    private sealed record Rendered(string BasePath, byte[] Content);
}
