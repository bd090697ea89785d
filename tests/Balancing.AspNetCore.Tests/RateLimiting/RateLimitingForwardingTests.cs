using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Balancing.AspNetCore.Tests.Infrastructure;
using Balancing.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Balancing.AspNetCore.Tests.RateLimiting;

/// <summary>Per-client rate limiting on a real Kestrel balancer in front of real Kestrel backends.</summary>
[TestClass]
public sealed class RateLimitingForwardingTests
{
    private const int Permits = 5;

    [TestMethod]
    public async Task Burst_OneClient_GetsExactlyThePermitsThen429WithRetryAfter()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        await using var balancer = await BalancerHost.StartAsync(Limited(backend));

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < Permits + 3; i++)
        {
            var response = await balancer.Client.GetAsync($"/burst/{i}");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refused ??= response;
            }
        }

        CollectionAssert.AreEqual(
            Enumerable.Repeat(HttpStatusCode.OK, Permits).Concat(Enumerable.Repeat(HttpStatusCode.TooManyRequests, 3)).ToList(),
            statuses);
        Assert.AreEqual(Permits, backend.Received.Count, "a refused request never reaches a backend");
        Assert.IsNotNull(refused);
        Assert.AreEqual("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var retryAfter = refused.Headers.RetryAfter?.Delta;
        Assert.IsNotNull(retryAfter);

        // One token per hour comes back: the limiter says so, in whole seconds.
        Assert.AreEqual(TimeSpan.FromHours(1), retryAfter.Value);
        using var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
        Assert.AreEqual(429, problem.RootElement.GetProperty("status").GetInt32());
    }

    [TestMethod]
    public async Task Burst_SecondClientOnAnotherAddress_IsUnaffected()
    {
        var remote = RemoteAddress.NonLoopbackIPv4();
        await using var backend = await TestBackend.StartAsync("b1");
        await using var balancer = await BalancerHost.StartAsync(Limited(backend), listenOn: IPAddress.Any);
        using var client = new HttpClient();

        var local = await StatusesAsync(client, Remote(balancer, IPAddress.Loopback), Permits + 1);
        var other = await StatusesAsync(client, Remote(balancer, remote), Permits);

        Assert.AreEqual(HttpStatusCode.TooManyRequests, local[^1], "the first client is over its limit");
        Assert.IsTrue(other.All(s => s == HttpStatusCode.OK), string.Join(",", other));
        Assert.AreEqual(2 * Permits, backend.Received.Count);
    }

    [TestMethod]
    public async Task SpoofedForwardedFor_FromUntrustedPeer_ChangesNothing()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        var settings = Limited(backend);
        settings["LoadBalancer:Forwarding:XForwarded"] = "Append";
        await using var balancer = await BalancerHost.StartAsync(settings);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < Permits + 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/");
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", $"198.51.100.{i + 1}");
            using var response = await balancer.Client.SendAsync(request);
            statuses.Add(response.StatusCode);
        }

        Assert.AreEqual(Permits, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.AreEqual(HttpStatusCode.TooManyRequests, statuses[^1]);
    }

    [TestMethod]
    public async Task ForwardedFor_FromTrustedProxy_SelectsTheRealClient()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        var settings = Limited(backend);
        settings["LoadBalancer:Forwarding:XForwarded"] = "Append";
        settings["LoadBalancer:Forwarding:TrustedProxies:0"] = "127.0.0.1";
        await using var balancer = await BalancerHost.StartAsync(settings);

        var first = await ForwardedStatusesAsync(balancer, "203.0.113.1", Permits + 1);
        var second = await ForwardedStatusesAsync(balancer, "203.0.113.2", Permits);

        Assert.AreEqual(HttpStatusCode.TooManyRequests, first[^1]);
        Assert.AreEqual(Permits, first.Count(s => s == HttpStatusCode.OK));
        Assert.IsTrue(second.All(s => s == HttpStatusCode.OK), "the proxy's second client has its own partition: " + string.Join(",", second));
    }

    [TestMethod]
    public async Task ExemptNetwork_IsNeverLimited()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        var settings = Limited(backend);
        settings["LoadBalancer:RateLimiting:ExemptNetworks:0"] = "127.0.0.0/8";
        await using var balancer = await BalancerHost.StartAsync(settings);

        var statuses = await StatusesAsync(balancer.Client, balancer.BaseUri, 4 * Permits);

        Assert.IsTrue(statuses.All(s => s == HttpStatusCode.OK), string.Join(",", statuses));
        Assert.AreEqual(4 * Permits, backend.Received.Count);
    }

    [TestMethod]
    public async Task Routes_OverrideAndDisable_TheGlobalLimit()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        var settings = Limited(backend);
        settings["LoadBalancer:Routes:api:Path"] = "/api/{**rest}";
        settings["LoadBalancer:Routes:api:Pool"] = "default";
        settings["LoadBalancer:Routes:api:RateLimiting:PermitLimit"] = "2";
        settings["LoadBalancer:Routes:health:Path"] = "/health";
        settings["LoadBalancer:Routes:health:Pool"] = "default";
        settings["LoadBalancer:Routes:health:RateLimiting:Enabled"] = "false";
        settings["LoadBalancer:Routes:web:Path"] = "/{**rest}";
        settings["LoadBalancer:Routes:web:Pool"] = "default";
        await using var balancer = await BalancerHost.StartAsync(settings);

        var api = await StatusesAsync(balancer.Client, new Uri(balancer.BaseUri, "/api/orders"), 4);
        var health = await StatusesAsync(balancer.Client, new Uri(balancer.BaseUri, "/health"), 3 * Permits);
        var web = await StatusesAsync(balancer.Client, new Uri(balancer.BaseUri, "/index.html"), Permits + 1);

        Assert.AreEqual(2, api.Count(s => s == HttpStatusCode.OK), "the route's own limit: " + string.Join(",", api));
        Assert.IsTrue(health.All(s => s == HttpStatusCode.OK), "a route with Enabled false is not limited");
        Assert.AreEqual(Permits, web.Count(s => s == HttpStatusCode.OK), "the global limit, apart from the api route's");
        Assert.AreEqual(HttpStatusCode.TooManyRequests, web[^1]);
    }

    [TestMethod]
    public async Task Rejections_AreCountedInMetricsAndStats()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero));
        await using var balancer = await BalancerHost.StartWithClockAsync(Limited(backend), clock, app =>
        {
            app.MapLoadBalancerStats();
            app.UseLoadBalancer();
        });
        var meter = balancer.Services.GetRequiredService<BalancingMetrics>().Meter;
        using var rejections = new MetricCollector<long>(meter, BalancingMetrics.RateLimitRejections);
        using var requests = new MetricCollector<double>(meter, BalancingMetrics.RequestDuration);

        await StatusesAsync(balancer.Client, balancer.BaseUri, Permits + 2);
        await Eventually.TrueAsync(() => requests.GetMeasurementSnapshot().Count == Permits + 2);
        clock.Advance(TimeSpan.FromSeconds(1));
        using var json = JsonDocument.Parse(await balancer.Client.GetStringAsync("/_lb/stats"));

        var counted = rejections.GetMeasurementSnapshot();
        Assert.AreEqual(2, counted.Sum(m => m.Value));
        Assert.IsTrue(counted.All(m => Equals(m.Tags["pool"], "default") && Equals(m.Tags["route"], "none")));
        var limited = requests.GetMeasurementSnapshot().Where(m => Equals(m.Tags["outcome"], "rate_limited")).ToList();
        Assert.AreEqual(2, limited.Count);
        Assert.IsTrue(limited.All(m => Equals(m.Tags["status_class"], "4xx") && Equals(m.Tags["backend"], "none")));

        var pool = json.RootElement.GetProperty("pools")[0];
        Assert.AreEqual(2L, pool.GetProperty("rateLimited").GetProperty("last10Seconds").GetInt64());
        var window = pool.GetProperty("last10Seconds");
        Assert.AreEqual((Permits + 2L, 0L), (window.GetProperty("requests").GetInt64(), window.GetProperty("errors").GetInt64()),
            "refused requests are requests of the pool, not errors");
    }

    [TestMethod]
    public async Task Concurrency_SecondRequestWhileTheFirstIsInProgress_IsRefused()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await TestBackend.StartAsync("b1", async context =>
        {
            if (context.Request.Path == "/slow")
            {
                arrived.TrySetResult();
                await release.Task;
            }

            await context.Response.WriteAsync("done");
        });
        var settings = BalancerHost.PoolSettings(backend);
        settings["LoadBalancer:RateLimiting:Enabled"] = "true";
        settings["LoadBalancer:RateLimiting:Algorithm"] = "Concurrency";
        settings["LoadBalancer:RateLimiting:PermitLimit"] = "1";
        await using var balancer = await BalancerHost.StartAsync(settings);

        var slow = balancer.Client.GetAsync("/slow");
        await arrived.Task.WaitAsync(Eventually.Patience);
        using var refused = await balancer.Client.GetAsync("/fast");
        release.SetResult();
        using var first = await slow;
        using var after = await balancer.Client.GetAsync("/fast");

        Assert.AreEqual(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.AreEqual(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        Assert.AreEqual(HttpStatusCode.OK, first.StatusCode);
        Assert.AreEqual(HttpStatusCode.OK, after.StatusCode, "the permit comes back when the first response has been relayed");
    }

    [TestMethod]
    public async Task Disabled_ByDefault_LimitsNobody()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        var settings = Limited(backend);
        settings.Remove("LoadBalancer:RateLimiting:Enabled");
        await using var balancer = await BalancerHost.StartAsync(settings);

        var statuses = await StatusesAsync(balancer.Client, balancer.BaseUri, 3 * Permits);

        Assert.IsTrue(statuses.All(s => s == HttpStatusCode.OK));
    }

    [TestMethod]
    [DataRow("LoadBalancer:RateLimiting:PermitLimit", "0")]
    [DataRow("LoadBalancer:RateLimiting:Algorithm", "LeakyBucket")]
    [DataRow("LoadBalancer:RateLimiting:ExemptNetworks:0", "10.0.0")]
    [DataRow("LoadBalancer:RateLimiting:IPv6PrefixLength", "129")]
    [DataRow("LoadBalancer:RateLimiting:Window", "00:00:00")]
    [DataRow("LoadBalancer:RateLimiting:PermitLimt", "10")]
    [DataRow("LoadBalancer:Routes:api:RateLimiting:QueueLimit", "-1")]
    public async Task InvalidSetting_FailsStartNamingTheKey(string key, string value)
    {
        await using var backend = await TestBackend.StartAsync("b1");
        var settings = Limited(backend);
        settings["LoadBalancer:Routes:api:Path"] = "/api/{**rest}";
        settings["LoadBalancer:Routes:api:Pool"] = "default";
        settings[key] = value;

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => BalancerHost.StartAsync(settings));

        StringAssert.Contains(error.Message, key);
    }

    /// <summary>Pool <c>default</c> over <paramref name="backend"/>, limited to <see cref="Permits"/> requests per client per hour.</summary>
    private static Dictionary<string, string?> Limited(TestBackend backend) => BalancerHost.RateLimitedPoolSettings(Permits, backend);

    private static async Task<List<HttpStatusCode>> StatusesAsync(HttpClient client, Uri uri, int count)
    {
        var statuses = new List<HttpStatusCode>(count);
        for (var i = 0; i < count; i++)
        {
            using var response = await client.GetAsync(uri);
            statuses.Add(response.StatusCode);
        }

        return statuses;
    }

    private static async Task<List<HttpStatusCode>> ForwardedStatusesAsync(BalancerHost balancer, string client, int count)
    {
        var statuses = new List<HttpStatusCode>(count);
        for (var i = 0; i < count; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/");
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", client);
            using var response = await balancer.Client.SendAsync(request);
            statuses.Add(response.StatusCode);
        }

        return statuses;
    }

    private static Uri Remote(BalancerHost balancer, IPAddress address)
        => new UriBuilder(Uri.UriSchemeHttp, address.ToString(), balancer.BaseUri.Port, "/").Uri;

}
