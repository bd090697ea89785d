using System.Collections.Frozen;
using System.Reflection;

namespace Balancing.AspNetCore.Dashboard;

/// <summary>
/// The dashboard's files, embedded in this assembly (see the csproj) so the page works with no network but the balancer
/// itself: no CDN, no web fonts, no build step. Loaded once, on first use.
/// </summary>
internal static class DashboardAssets
{
    /// <summary>The prefix of the manifest resource names the csproj gives the files.</summary>
    public const string ResourcePrefix = "Balancing.AspNetCore.Dashboard.";

    /// <summary>The page's file name; it is a template (<see cref="DashboardPage"/>), never served as it is.</summary>
    public const string PageName = "dashboard.html";

    private static readonly Lazy<FrozenDictionary<string, DashboardAsset>> Files = new(Load);

    /// <summary>The files served under <c>{pattern}/assets/</c>, by name (case-sensitive, as URLs are).</summary>
    public static FrozenDictionary<string, DashboardAsset> Served => Files.Value;

    /// <summary>The page template.</summary>
    public static DashboardAsset Page => Files.Value[PageName];

    /// <summary>The asset named <paramref name="name"/>, or <see langword="null"/>; the page template is not an asset.</summary>
    public static DashboardAsset? Find(string? name)
        => name is not null && name != PageName && Files.Value.TryGetValue(name, out var asset) ? asset : null;

    private static FrozenDictionary<string, DashboardAsset> Load()
    {
        (string Name, string ContentType)[] files =
        [
            (PageName, "text/html; charset=utf-8"),
            ("dashboard.css", "text/css; charset=utf-8"),
            ("dashboard.js", "text/javascript; charset=utf-8"),
            ("favicon.svg", "image/svg+xml"),
        ];

        var assembly = typeof(DashboardAssets).Assembly;
        return files.ToFrozenDictionary(f => f.Name, f => new DashboardAsset(f.Name, f.ContentType, Read(assembly, f.Name)), StringComparer.Ordinal);
    }

    private static byte[] Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(ResourcePrefix + name)
            ?? throw new InvalidOperationException($"The dashboard file '{name}' is not embedded in {assembly.GetName().Name}.");
        using var copy = new MemoryStream((int)stream.Length);
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
