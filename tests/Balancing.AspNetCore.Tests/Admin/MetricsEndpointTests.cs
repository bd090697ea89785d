using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;

namespace Balancing.AspNetCore.Tests.Admin;

[TestClass]
public sealed class MetricsEndpointTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task Metrics_ExposeTheAppsAspNetCoreMetersInPrometheusText()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        await using var balancer = await StartAsync(BalancerHost.PoolSettings(backend));
        for (var i = 0; i < 3; i++)
        {
            using var forwarded = await balancer.Client.GetAsync("/x");
            Assert.AreEqual(HttpStatusCode.OK, forwarded.StatusCode);
        }

        using var response = await balancer.Client.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType ?? string.Empty);
        Assert.Contains("# TYPE http_server_request_duration_seconds histogram", text);
        Assert.Contains("# TYPE http_client_request_duration_seconds histogram", text, "the balancer's calls to its backends");
        Assert.Contains("dotnet_gc_collections_total", text, "the runtime's meter");
    }

    [TestMethod]
    public async Task Metrics_WithPlatformMetricsOff_ExposeOnlyBalancingAndTheRuntime()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        var settings = BalancerHost.PoolSettings(backend);
        settings["LoadBalancer:Monitoring:PlatformMetrics"] = "false";
        await using var balancer = await StartAsync(settings);
        using (var forwarded = await balancer.Client.GetAsync("/x"))
        {
            Assert.AreEqual(HttpStatusCode.OK, forwarded.StatusCode);
        }

        var text = await balancer.Client.GetStringAsync("/metrics");

        Assert.Contains("balancing_request_duration_seconds_count", text);
        Assert.Contains("dotnet_gc_collections_total", text, "the runtime's meter stays");
        Assert.DoesNotContain("http_server_", text);
        Assert.DoesNotContain("http_client_", text);
        Assert.DoesNotContain("kestrel_", text);
    }

    [TestMethod]
    public async Task Metrics_CountOnlyThisAppsRequests_WhenSeveralHostsShareTheProcess()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        await using var busy = await StartAsync(BalancerHost.PoolSettings(backend));
        await using var quiet = await StartAsync(BalancerHost.PoolSettings(backend));
        for (var i = 0; i < 5; i++)
        {
            using var forwarded = await busy.Client.GetAsync("/busy");
        }

        var quietText = await quiet.Client.GetStringAsync("/metrics");
        var busyText = await busy.Client.GetStringAsync("/metrics");

        // Scrapes are counted once they complete, so a first scrape shows only what came before it.
        Assert.IsNull(ServerRequestCount(quietText), "the quiet balancer served nothing before its first scrape:\n" + quietText);
        Assert.AreEqual(5, ServerRequestCount(busyText), busyText);
    }

    private static long? ServerRequestCount(string text)
    {
        var lines = text.Split('\n').Where(l => l.StartsWith("http_server_request_duration_seconds_count", StringComparison.Ordinal)).ToList();
        return lines.Count == 0 ? null : lines.Sum(l => long.Parse(l.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    [TestMethod]
    public async Task Metrics_PassPromtoolCheck()
    {
        var promtool = SystemPackages.Require("promtool", "prometheus");
        await using var backend = await TestBackend.StartAsync("b1");
        await using var balancer = await StartAsync(BalancerHost.PoolSettings(backend));
        using (await balancer.Client.GetAsync("/x"))
        {
        }

        var text = await balancer.Client.GetStringAsync("/metrics");
        var (exitCode, output) = await RunAsync(promtool, "check metrics", text);

        TestContext.WriteLine(output);
        Assert.AreEqual(0, exitCode, $"promtool check metrics found problems:\n{output}");
    }

    [TestMethod]
    public async Task Metrics_RefuseRemoteClients_UnlessOpened()
    {
        var address = RemoteAddress.NonLoopbackIPv4();
        await using var backend = await TestBackend.StartAsync("b1");
        await using var closed = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend), app =>
        {
            app.MapLoadBalancerMetrics();
            app.UseLoadBalancer();
        }, listenOn: IPAddress.Any);
        await using var opened = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend), app =>
        {
            app.MapLoadBalancerMetrics().AllowRemoteAccess();
            app.UseLoadBalancer();
        }, listenOn: IPAddress.Any);
        using var client = new HttpClient();

        using var refused = await client.GetAsync(Remote(closed, address, "/metrics"));
        using var forwarded = await client.GetAsync(Remote(closed, address, "/other"));
        using var local = await client.GetAsync(Remote(closed, IPAddress.Loopback, "/metrics"));
        using var allowed = await client.GetAsync(Remote(opened, address, "/metrics"));

        Assert.AreEqual(HttpStatusCode.Forbidden, refused.StatusCode, "a client on another machine's address is not loopback");
        Assert.AreEqual("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.AreEqual(HttpStatusCode.OK, forwarded.StatusCode, "only the admin endpoint is closed, not the balancer");
        Assert.AreEqual(HttpStatusCode.OK, local.StatusCode);
        Assert.AreEqual(HttpStatusCode.OK, allowed.StatusCode);
    }

    private static Task<BalancerHost> StartAsync(Dictionary<string, string?> settings)
        => BalancerHost.StartAsync(settings, app =>
        {
            app.MapLoadBalancerMetrics();
            app.UseLoadBalancer();
        });

    private static Uri Remote(BalancerHost host, IPAddress address, string path)
        => new($"http://{address}:{host.BaseUri.Port}{path}");


    private static async Task<(int ExitCode, string Output)> RunAsync(string program, string arguments, string input)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await error);
    }
}
