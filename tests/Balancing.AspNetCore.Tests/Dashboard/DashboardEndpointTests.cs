using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Balancing.AspNetCore.Dashboard;
using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;

namespace Balancing.AspNetCore.Tests.Dashboard;

/// <summary><c>MapLoadBalancerDashboard()</c>'s endpoints over HTTP: the page, its embedded files and its data.</summary>
[TestClass]
public sealed partial class DashboardEndpointTests
{
    private static readonly string[] AssetNames = ["dashboard.css", "dashboard.js", "favicon.svg"];

    [TestMethod]
    public void MapLoadBalancerDashboard_WithoutAddLoadBalancer_ThrowsNamingIt()
    {
        var app = WebApplication.CreateSlimBuilder().Build();

        var error = Assert.ThrowsExactly<InvalidOperationException>(() => app.MapLoadBalancerDashboard());

        StringAssert.Contains(error.Message, "AddLoadBalancer");
    }

    [TestMethod]
    public void Assets_AreEmbeddedInTheAssembly()
    {
        var names = typeof(LoadBalancerDashboardEndpointExtensions).Assembly.GetManifestResourceNames();

        CollectionAssert.IsSubsetOf(
            new[] { "dashboard.html", "dashboard.css", "dashboard.js", "favicon.svg" }.Select(n => DashboardAssets.ResourcePrefix + n).ToArray(),
            names);
        Assert.AreEqual(Embedded("dashboard.js").Length, DashboardAssets.Served["dashboard.js"].Content.Length);
    }

    [TestMethod]
    public async Task Page_IsServedWithAStrictContentSecurityPolicy()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        await using var balancer = await StartAsync(BalancerHost.PoolSettings(backend));

        using var response = await balancer.Client.GetAsync("/_lb");
        var csp = string.Join(", ", response.Headers.GetValues("Content-Security-Policy"));

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.AreEqual("utf-8", response.Content.Headers.ContentType?.CharSet);
        Assert.AreEqual(DashboardEndpoints.ContentSecurityPolicy, csp);
        StringAssert.StartsWith(csp, "default-src 'self';");
        Assert.DoesNotContain("unsafe-inline", csp);
        Assert.DoesNotContain("unsafe-eval", csp);
        StringAssert.Contains(csp, "frame-ancestors 'none'");
        Assert.AreEqual("nosniff", string.Join(",", response.Headers.GetValues("X-Content-Type-Options")));
        Assert.IsTrue(response.Headers.CacheControl?.NoCache, "the page revalidates, so a new version shows at once");
        Assert.AreEqual("no-referrer", string.Join(",", response.Headers.GetValues("Referrer-Policy")));
    }

    [TestMethod]
    public async Task Page_LoadsNothingInlineAndNothingFromElsewhere()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        await using var balancer = await StartAsync(BalancerHost.PoolSettings(backend));

        var html = await balancer.Client.GetStringAsync("/_lb");
        var scripts = ScriptTag().Matches(html).Select(m => m.Value).ToList();

        Assert.HasCount(1, scripts);
        StringAssert.Matches(scripts[0], new Regex("src=\"/_lb/assets/dashboard\\.js\\?v=[0-9a-f]{16}\""));
        StringAssert.Contains(html, "href=\"/_lb/assets/dashboard.css?v=");
        StringAssert.Contains(html, "href=\"/_lb/assets/favicon.svg?v=");
        StringAssert.Contains(html, "href=\"/_lb/stats.json\"");
        Assert.DoesNotContain("<style", html, "styles come from the stylesheet only");
        Assert.DoesNotContain(" style=", html, "no style attributes: the policy would refuse them");
        Assert.DoesNotMatchRegex(new Regex(" on[a-z]+="), html, "no inline event handlers");
        Assert.DoesNotContain("http://", html, "no absolute URL: the page loads from the balancer only");
        Assert.DoesNotContain("https://", html);
        Assert.DoesNotContain("{{", html, "every placeholder is filled in");
        Assert.DoesNotContain("http", Encoding(Embedded("dashboard.css")), "no web fonts or remote images");
        Assert.DoesNotContain("eval(", Encoding(Embedded("dashboard.js")));
    }

    [TestMethod]
    [DataRow("dashboard.css", "text/css")]
    [DataRow("dashboard.js", "text/javascript")]
    [DataRow("favicon.svg", "image/svg+xml")]
    public async Task Asset_IsServedAsEmbeddedWithItsContentType(string name, string mediaType)
    {
        await using var backend = await TestBackend.StartAsync("b1");
        await using var balancer = await StartAsync(BalancerHost.PoolSettings(backend));

        using var response = await balancer.Client.GetAsync($"/_lb/assets/{name}");
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual(mediaType, response.Content.Headers.ContentType?.MediaType);
        CollectionAssert.AreEqual(Embedded(name), body);
        Assert.AreEqual("nosniff", string.Join(",", response.Headers.GetValues("X-Content-Type-Options")));
        Assert.AreEqual(DashboardEndpoints.ContentSecurityPolicy, string.Join(", ", response.Headers.GetValues("Content-Security-Policy")));
        Assert.IsTrue(response.Headers.CacheControl?.Private);
        Assert.AreEqual(TimeSpan.FromDays(1), response.Headers.CacheControl?.MaxAge);
        Assert.IsNotNull(response.Headers.ETag);
    }

    [TestMethod]
    public async Task Asset_RequestedWithItsETag_Answers304WithoutABody()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        await using var balancer = await StartAsync(BalancerHost.PoolSettings(backend));
        using var first = await balancer.Client.GetAsync("/_lb/assets/dashboard.js");

        using var request = new HttpRequestMessage(HttpMethod.Get, "/_lb/assets/dashboard.js");
        request.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        using var second = await balancer.Client.SendAsync(request);

        Assert.AreEqual(HttpStatusCode.NotModified, second.StatusCode);
        Assert.IsEmpty(await second.Content.ReadAsByteArrayAsync());
        Assert.AreEqual(first.Headers.ETag, second.Headers.ETag);
    }

    [TestMethod]
    [DataRow("missing.js")]
    [DataRow("dashboard.html")]
    [DataRow("DASHBOARD.JS")]
    public async Task Asset_NotServed_Answers404(string name)
    {
        await using var backend = await TestBackend.StartAsync("b1");
        await using var balancer = await StartAsync(BalancerHost.PoolSettings(backend));

        using var response = await balancer.Client.GetAsync($"/_lb/assets/{name}");

        Assert.AreEqual(HttpStatusCode.NotFound, response.StatusCode);
        Assert.IsEmpty(backend.Received, "a dashboard path is not forwarded");
    }

    [TestMethod]
    public async Task StatsJson_ServesTheStatsEndpointsJson_WithoutMapLoadBalancerStats()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        await using var balancer = await StartAsync(BalancerHost.PoolSettings(b1, b2));
        await using var both = await BalancerHost.StartAsync(BalancerHost.PoolSettings(b1, b2), app =>
        {
            app.MapLoadBalancerStats("/stats");
            app.MapLoadBalancerDashboard();
            app.UseLoadBalancer();
        });

        using var response = await balancer.Client.GetAsync("/_lb/stats.json");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        using var reference = JsonDocument.Parse(await both.Client.GetStringAsync("/stats"));
        var pool = json.RootElement.GetProperty("pools")[0];

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.IsTrue(response.Headers.CacheControl?.NoStore);
        Assert.AreEqual("default", pool.GetProperty("name").GetString());
        CollectionAssert.AreEqual(new[] { "b1", "b2" }, pool.GetProperty("backends").EnumerateArray().Select(b => b.GetProperty("id").GetString()).ToArray());
        CollectionAssert.AreEqual(Shape(reference.RootElement), Shape(json.RootElement), "the same serializer as /_lb/stats");
    }

    [TestMethod]
    [DataRow("/ops/dashboard")]
    [DataRow("/ops/dashboard/")]
    public async Task Page_UnderAnotherPattern_ReferencesItsFilesUnderThatPattern(string path)
    {
        await using var backend = await TestBackend.StartAsync("b1");
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend), app =>
        {
            app.MapLoadBalancerDashboard("/ops/dashboard");
            app.UseLoadBalancer();
        });

        var html = await balancer.Client.GetStringAsync(path);
        var script = ScriptSource().Match(html).Groups["src"].Value;
        using var scriptResponse = await balancer.Client.GetAsync(script);
        using var stats = await balancer.Client.GetAsync("/ops/dashboard/stats.json");

        StringAssert.StartsWith(script, "/ops/dashboard/assets/dashboard.js?v=");
        Assert.AreEqual(HttpStatusCode.OK, scriptResponse.StatusCode);
        Assert.AreEqual(HttpStatusCode.OK, stats.StatusCode);
        Assert.IsEmpty(backend.Received);
    }

    [TestMethod]
    public async Task Dashboard_RefusesRemoteClients_OnEveryEndpoint_UnlessOpened()
    {
        var address = RemoteAddress.NonLoopbackIPv4();
        await using var backend = await TestBackend.StartAsync("b1");
        await using var closed = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend), app =>
        {
            app.MapLoadBalancerDashboard();
            app.UseLoadBalancer();
        }, listenOn: IPAddress.Any);
        await using var opened = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend), app =>
        {
            app.MapLoadBalancerDashboard().AllowRemoteAccess();
            app.UseLoadBalancer();
        }, listenOn: IPAddress.Any);
        using var client = new HttpClient();
        string[] paths = ["/_lb", "/_lb/stats.json", "/_lb/assets/dashboard.js"];

        foreach (var path in paths)
        {
            using var refused = await client.GetAsync(Remote(closed, address, path));
            using var local = await client.GetAsync(Remote(closed, IPAddress.Loopback, path));
            using var allowed = await client.GetAsync(Remote(opened, address, path));

            Assert.AreEqual(HttpStatusCode.Forbidden, refused.StatusCode, path);
            Assert.AreEqual("application/problem+json", refused.Content.Headers.ContentType?.MediaType, path);
            Assert.AreEqual(HttpStatusCode.OK, local.StatusCode, path);
            Assert.AreEqual(HttpStatusCode.OK, allowed.StatusCode, path);
        }

        using var forwarded = await client.GetAsync(Remote(closed, address, "/other"));
        Assert.AreEqual(HttpStatusCode.OK, forwarded.StatusCode, "only the dashboard is closed, not the balancer");
    }

    private static Task<BalancerHost> StartAsync(Dictionary<string, string?> settings)
        => BalancerHost.StartAsync(settings, app =>
        {
            app.MapLoadBalancerDashboard();
            app.UseLoadBalancer();
        });

    private static byte[] Embedded(string name)
    {
        using var stream = typeof(LoadBalancerDashboardEndpointExtensions).Assembly.GetManifestResourceStream(DashboardAssets.ResourcePrefix + name)!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static string Encoding(byte[] bytes) => System.Text.Encoding.UTF8.GetString(bytes);

    /// <summary>Every property path in the document, with array items merged: the JSON's shape without its values.</summary>
    private static string[] Shape(JsonElement element)
    {
        var paths = new SortedSet<string>(StringComparer.Ordinal);
        Walk(element, "$", paths);
        return [.. paths];

        static void Walk(JsonElement element, string path, SortedSet<string> paths)
        {
            if (element.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in element.EnumerateObject())
                {
                    paths.Add(path + "." + property.Name);
                    Walk(property.Value, path + "." + property.Name, paths);
                }
            }
            else if (element.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in element.EnumerateArray())
                {
                    Walk(item, path + "[]", paths);
                }
            }
        }
    }

    private static Uri Remote(BalancerHost host, IPAddress address, string path)
        => new($"http://{address}:{host.BaseUri.Port}{path}");


    [GeneratedRegex("<script\\b[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptTag();

    [GeneratedRegex("<script\\b[^>]*\\bsrc=\"(?<src>[^\"]+)\"")]
    private static partial Regex ScriptSource();
}
