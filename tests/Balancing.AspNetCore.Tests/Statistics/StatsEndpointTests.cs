using System.Diagnostics.Metrics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json;
using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Balancing.AspNetCore.Tests.Statistics;

/// <summary><c>MapLoadBalancerStats()</c> on a real Kestrel balancer.</summary>
[TestClass]
public sealed class StatsEndpointTests
{
    private static readonly DateTimeOffset Start = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [TestMethod]
    public void MapLoadBalancerStats_WithoutAddLoadBalancer_ThrowsNamingIt()
    {
        var app = WebApplication.CreateSlimBuilder().Build();

        var error = Assert.ThrowsExactly<InvalidOperationException>(() => app.MapLoadBalancerStats());

        StringAssert.Contains(error.Message, "AddLoadBalancer");
    }

    [TestMethod]
    public async Task Stats_RecordedMeasurements_AreServedAsJson()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        var clock = new FakeTimeProvider(Start);
        await using var balancer = await BalancerHost.StartWithClockAsync(BalancerHost.PoolSettings(b1, b2), clock, app =>
        {
            app.MapLoadBalancerStats();
            app.UseLoadBalancer();
        });

        // What the forwarding code records for each finished request, retry and ejection.
        var meter = balancer.Services.GetRequiredService<IMeterFactory>().Create("Balancing");
        var duration = meter.CreateHistogram<double>("balancing.request.duration", "s");
        duration.Record(0.020, Tags(("pool", "default"), ("backend", "b1"), ("status_class", "2xx"), ("outcome", "success")));
        duration.Record(0.040, Tags(("pool", "default"), ("backend", "b1"), ("status_class", "5xx"), ("outcome", "success")));
        duration.Record(0.001, Tags(("pool", "default"), ("backend", "b2"), ("status_class", "none"), ("outcome", "connect_failed")));
        duration.Record(0.001, Tags(("pool", "default"), ("backend", "none"), ("status_class", "none"), ("outcome", "no_available_backend")));
        meter.CreateCounter<long>("balancing.retries").Add(1, Tags(("pool", "default"), ("reason", "connect_failed")));
        meter.CreateCounter<long>("balancing.backend.ejections").Add(1, Tags(("pool", "default"), ("backend", "b2")));
        clock.Advance(TimeSpan.FromSeconds(1));

        using var response = await balancer.Client.GetAsync("/_lb/stats");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;
        var pool = root.GetProperty("pools")[0];
        var backend = pool.GetProperty("backends")[0];

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.IsTrue(response.Headers.CacheControl?.NoStore);
        Assert.AreEqual(Start.AddSeconds(1), root.GetProperty("generatedAt").GetDateTimeOffset());
        Assert.AreEqual((0.1, 60.0, 20), (root.GetProperty("errorRateThreshold").GetDouble(), root.GetProperty("errorRateWindow").GetDouble(), root.GetProperty("minimumRequests").GetInt32()));
        Assert.AreEqual(("default", "RoundRobin", 2), (pool.GetProperty("name").GetString(), pool.GetProperty("strategy").GetString(), pool.GetProperty("availableBackends").GetInt32()));
        Assert.AreEqual((10.0, 4L, 3L, 0.4, 0.75), Window(pool.GetProperty("last10Seconds")));
        Assert.AreEqual((60.0, 4L, 3L, 4 / 60.0, 0.75), Window(pool.GetProperty("lastMinute")));
        Assert.AreEqual((1L, 1L), (pool.GetProperty("retries").GetProperty("last10Seconds").GetInt64(), pool.GetProperty("retries").GetProperty("lastMinute").GetInt64()));
        Assert.AreEqual(1L, pool.GetProperty("ejections").GetProperty("lastMinute").GetInt64());
        Assert.AreEqual(("b1", b1.Address + "/", "Unknown", "Closed"), (backend.GetProperty("id").GetString(), backend.GetProperty("address").GetString(), backend.GetProperty("health").GetString(), backend.GetProperty("breakerState").GetString()));
        Assert.AreEqual((10.0, 2L, 1L, 0.2, 0.5), Window(backend.GetProperty("last10Seconds")));
        var latency = backend.GetProperty("latency");
        Assert.AreEqual((60.0, 2L), (latency.GetProperty("window").GetDouble(), latency.GetProperty("count").GetInt64()));
        Assert.AreEqual(0.020, latency.GetProperty("p50").GetDouble(), 0.020 / 128, "2 significant digits");
        Assert.AreEqual(0.040, latency.GetProperty("p99").GetDouble(), 0.040 / 128, "2 significant digits");
        Assert.AreEqual(1L, pool.GetProperty("backends")[1].GetProperty("ejections").GetProperty("last10Seconds").GetInt64());
    }

    [TestMethod]
    public async Task Stats_Json_HasEveryDocumentedField()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(b1), app =>
        {
            app.MapLoadBalancerStats();
            app.UseLoadBalancer();
        });

        using var json = JsonDocument.Parse(await balancer.Client.GetStringAsync("/_lb/stats"));
        var root = json.RootElement;
        var pool = root.GetProperty("pools")[0];
        var backend = pool.GetProperty("backends")[0];

        CollectionAssert.AreEqual(new[] { "generatedAt", "errorRateThreshold", "errorRateWindow", "minimumRequests", "pools", "sharedState" }, Names(root));
        CollectionAssert.AreEqual(
            new[] { "name", "strategy", "availableBackends", "last10Seconds", "lastMinute", "latency", "retries", "ejections", "rateLimited", "errorRateAlert", "alertSince", "cache", "backends" },
            Names(pool));
        CollectionAssert.AreEqual(new[] { "hits", "misses", "revalidated", "coalesced", "bypassed", "servedStale", "hitRatio" }, Names(pool.GetProperty("cache")));
        CollectionAssert.AreEqual(
            new[]
            {
                "id", "address", "health", "healthChangedAt", "isAvailable", "weight", "inFlight", "breakerState", "ejectedUntil", "ejectionCount",
                "totalRequests", "totalFailures", "lastProbe", "latencyEstimate", "last10Seconds", "lastMinute", "latency", "ejections", "errorRateAlert", "alertSince",
            },
            Names(backend));
        CollectionAssert.AreEqual(new[] { "window", "requests", "errors", "requestsPerSecond", "errorRate" }, Names(pool.GetProperty("lastMinute")));
        CollectionAssert.AreEqual(new[] { "window", "count", "p50", "p95", "p99", "max" }, Names(pool.GetProperty("latency")));
        CollectionAssert.AreEqual(new[] { "last10Seconds", "lastMinute" }, Names(pool.GetProperty("retries")));
        Assert.AreEqual(JsonValueKind.Null, backend.GetProperty("latency").GetProperty("p99").ValueKind);
        Assert.AreEqual(JsonValueKind.Null, backend.GetProperty("alertSince").ValueKind);
    }

    [TestMethod]
    public async Task Stats_ProbeAndLatencyEstimate_AreWrittenInSeconds()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(b1), app =>
        {
            app.MapLoadBalancerStats("/ops/stats");
            app.UseLoadBalancer();
        });
        var state = balancer.Registry.GetPool("default")!.Backends[0];
        state.RecordProbe(ProbeResult.Healthy("200"), TimeSpan.FromMilliseconds(250), Start);
        state.RecordLatency(TimeSpan.FromMilliseconds(1500), TimeSpan.FromSeconds(10), TimeProvider.System);

        using var json = JsonDocument.Parse(await balancer.Client.GetStringAsync("/ops/stats"));
        var backend = json.RootElement.GetProperty("pools")[0].GetProperty("backends")[0];
        var probe = backend.GetProperty("lastProbe");

        Assert.AreEqual((true, "200", 0.25, Start), (probe.GetProperty("healthy").GetBoolean(), probe.GetProperty("description").GetString(), probe.GetProperty("latency").GetDouble(), probe.GetProperty("at").GetDateTimeOffset()));
        Assert.AreEqual((1, 0), (probe.GetProperty("consecutivePasses").GetInt32(), probe.GetProperty("consecutiveFailures").GetInt32()));
        Assert.AreEqual(1.5, backend.GetProperty("latencyEstimate").GetDouble(), 0.001);
    }

    [TestMethod]
    public async Task Stats_ErrorRateAlert_ShowsWithItsStart()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        var clock = new FakeTimeProvider(Start);
        var settings = BalancerHost.PoolSettings(b1);
        settings["LoadBalancer:Monitoring:MinimumRequests"] = "4";
        await using var balancer = await BalancerHost.StartWithClockAsync(settings, clock, app =>
        {
            app.MapLoadBalancerStats();
            app.UseLoadBalancer();
        });
        var duration = balancer.Services.GetRequiredService<IMeterFactory>().Create("Balancing").CreateHistogram<double>("balancing.request.duration", "s");
        for (var i = 0; i < 4; i++)
        {
            duration.Record(0.01, Tags(("pool", "default"), ("backend", "b1"), ("status_class", "5xx"), ("outcome", "success")));
        }

        clock.Advance(TimeSpan.FromSeconds(1));
        using var json = JsonDocument.Parse(await balancer.Client.GetStringAsync("/_lb/stats"));
        var pool = json.RootElement.GetProperty("pools")[0];
        var backend = pool.GetProperty("backends")[0];

        Assert.IsTrue(backend.GetProperty("errorRateAlert").GetBoolean());
        Assert.AreEqual(Start.AddSeconds(1), backend.GetProperty("alertSince").GetDateTimeOffset());
        Assert.IsTrue(pool.GetProperty("errorRateAlert").GetBoolean());
        Assert.AreEqual(1, balancer.Logs.GetSnapshot().Count(r => r.Id.Id == 260));
    }

    [TestMethod]
    public async Task Stats_ClientNotOnLoopback_Gets403()
    {
        var address = RemoteAddress.NonLoopbackIPv4();
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var balancer = await StartOnAsync(address, b1, app => app.MapLoadBalancerStats());
        using var remote = RemoteClient(address, balancer);

        using var fromAfar = await remote.GetAsync("/_lb/stats");
        using var local = await balancer.Client.GetAsync("/_lb/stats");

        Assert.AreEqual(HttpStatusCode.Forbidden, fromAfar.StatusCode);
        Assert.AreEqual("application/problem+json", fromAfar.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain(b1.Address, await fromAfar.Content.ReadAsStringAsync(), "nothing about the backends leaks");
        Assert.AreEqual(HttpStatusCode.OK, local.StatusCode);
    }

    [TestMethod]
    public async Task Stats_AllowRemoteAccess_AnswersClientsNotOnLoopback()
    {
        var address = RemoteAddress.NonLoopbackIPv4();
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var balancer = await StartOnAsync(address, b1, app => app.MapLoadBalancerStats().AllowRemoteAccess());
        using var remote = RemoteClient(address, balancer);

        using var response = await remote.GetAsync("/_lb/stats");

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.AreEqual("b1", json.RootElement.GetProperty("pools")[0].GetProperty("backends")[0].GetProperty("id").GetString());
    }

    /// <summary>
    /// Real traffic through the balancer, counted exactly: 10 requests to each of four backends in turn (round robin, no
    /// retries, no passive health), two answering 200, one 500 and one refusing connections.
    /// </summary>
    [TestMethod]
    public async Task Stats_ReportExactCountsForRealTraffic()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        await using var b3 = await TestBackend.StartAsync("b3", context =>
        {
            context.Response.StatusCode = 500;
            return Task.CompletedTask;
        });
        var settings = BalancerHost.PoolSettings(b1, b2, b3);
        settings["LoadBalancer:Pools:default:Backends:b4:Address"] = $"http://127.0.0.1:{BalancerHost.ClosedPort()}";
        settings["LoadBalancer:Pools:default:Retry:Enabled"] = "false";
        settings["LoadBalancer:Pools:default:HealthCheck:Passive:Enabled"] = "false";
        await using var balancer = await BalancerHost.StartAsync(settings, app =>
        {
            app.MapLoadBalancerStats();
            app.UseLoadBalancer();
        });

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 40; i++)
        {
            using var response = await balancer.Client.GetAsync($"/item/{i}");
            statuses.Add(response.StatusCode);
        }

        // Figures move once a second: wait until the last request has been counted.
        JsonElement pool = default;
        await Eventually.TrueAsync(
            async () =>
            {
                using var json = JsonDocument.Parse(await balancer.Client.GetStringAsync("/_lb/stats"));
                pool = json.RootElement.GetProperty("pools")[0].Clone();
                return pool.GetProperty("lastMinute").GetProperty("requests").GetInt64() >= 40;
            },
            Eventually.Patience);
        var backends = pool.GetProperty("backends").EnumerateArray().ToDictionary(b => b.GetProperty("id").GetString()!);

        Assert.AreEqual((20, 10, 10), (statuses.Count(s => s == HttpStatusCode.OK), statuses.Count(s => s == HttpStatusCode.InternalServerError), statuses.Count(s => s == HttpStatusCode.BadGateway)));
        Assert.AreEqual((60.0, 40L, 20L, 40 / 60.0, 0.5), Window(pool.GetProperty("lastMinute")));
        Assert.AreEqual((10L, 0L), Counts(backends["b1"]));
        Assert.AreEqual((10L, 0L), Counts(backends["b2"]));
        Assert.AreEqual((10L, 10L), Counts(backends["b3"]));
        Assert.AreEqual((10L, 10L), Counts(backends["b4"]));
        Assert.AreEqual(0L, pool.GetProperty("retries").GetProperty("lastMinute").GetInt64());
        Assert.AreEqual(40L, pool.GetProperty("latency").GetProperty("count").GetInt64());
    }

    [TestMethod]
    public async Task Stats_P99OfASlowBackend_IsItsDelay()
    {
        await using var slow = await TestBackend.StartAsync("slow", async context =>
        {
            // The backend's own behaviour under test, not a wait for the test's sake.
            await Task.Delay(50);
            await context.Response.WriteAsync("slow");
        });
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(slow), app =>
        {
            app.MapLoadBalancerStats();
            app.UseLoadBalancer();
        });

        // What the client saw bounds what the balancer measured inside: no request took longer in the balancer than the
        // client waited for it. (On a loaded machine that can be well over 50 ms; a fixed upper bound would be flaky.)
        var slowest = TimeSpan.Zero;
        for (var i = 0; i < 20; i++)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            Assert.AreEqual("slow", await balancer.Client.GetStringAsync("/"));
            slowest = TimeSpan.FromTicks(Math.Max(slowest.Ticks, watch.Elapsed.Ticks));
        }

        JsonElement latency = default;
        await Eventually.TrueAsync(
            async () =>
            {
                using var json = JsonDocument.Parse(await balancer.Client.GetStringAsync("/_lb/stats"));
                latency = json.RootElement.GetProperty("pools")[0].GetProperty("backends")[0].GetProperty("latency").Clone();
                return latency.GetProperty("count").GetInt64() >= 20;
            },
            Eventually.Patience);

        Assert.AreEqual(20L, latency.GetProperty("count").GetInt64());
        Assert.IsGreaterThanOrEqualTo(0.050, latency.GetProperty("p50").GetDouble());
        Assert.IsGreaterThanOrEqualTo(0.050, latency.GetProperty("p99").GetDouble());
        Assert.IsLessThanOrEqualTo(slowest.TotalSeconds * 1.01, latency.GetProperty("p99").GetDouble(), "2 significant digits: within 1 % of the slowest request the client saw");
    }

    private static KeyValuePair<string, object?>[] Tags(params (string Key, string Value)[] tags)
        => [.. tags.Select(t => new KeyValuePair<string, object?>(t.Key, t.Value))];

    private static (double Window, long Requests, long Errors, double RequestsPerSecond, double ErrorRate) Window(JsonElement window)
        => (window.GetProperty("window").GetDouble(),
            window.GetProperty("requests").GetInt64(),
            window.GetProperty("errors").GetInt64(),
            window.GetProperty("requestsPerSecond").GetDouble(),
            window.GetProperty("errorRate").GetDouble());

    private static (long Requests, long Errors) Counts(JsonElement backend)
        => (backend.GetProperty("lastMinute").GetProperty("requests").GetInt64(), backend.GetProperty("lastMinute").GetProperty("errors").GetInt64());

    private static string[] Names(JsonElement element) => [.. element.EnumerateObject().Select(p => p.Name)];

    /// <summary>An IPv4 address of this machine that is not loopback, so a connection to it does not come from loopback.</summary>

    /// <summary>A balancer that also listens on <paramref name="address"/>, beside its usual loopback endpoint.</summary>
    private static Task<BalancerHost> StartOnAsync(IPAddress address, TestBackend backend, Action<WebApplication> mapStats)
        => BalancerHost.StartAsync(
            BalancerHost.PoolSettings(backend),
            app =>
            {
                mapStats(app);
                app.UseLoadBalancer();
            },
            services => services.Configure<KestrelServerOptions>(k => k.Listen(address, 0)));

    private static HttpClient RemoteClient(IPAddress address, BalancerHost balancer)
    {
        var addresses = balancer.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var endpoint = new Uri(addresses.Single(a => a.Contains(address.ToString(), StringComparison.Ordinal)));
        return new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = endpoint };
    }
}
