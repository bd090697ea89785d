using System.Net;
using Balancing.AspNetCore.Tests.Infrastructure;
using Balancing.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;

namespace Balancing.AspNetCore.Tests.Diagnostics;

/// <summary>The balancer's instruments as real traffic through Kestrel to real Kestrel backends records them.</summary>
[TestClass]
public sealed class MetricsTests
{
    [TestMethod]
    public async Task ThreeRequests_CountsEachOnceWithTheBackendThatServedIt()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(b1, b2));
        using var requests = Collect<long>(balancer, BalancingMetrics.Requests);
        using var durations = Collect<double>(balancer, BalancingMetrics.RequestDuration);

        for (var i = 0; i < 3; i++)
        {
            using var response = await balancer.Client.GetAsync("/");
            Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        }

        await requests.WaitForMeasurementsAsync(3, Eventually.Patience);
        await durations.WaitForMeasurementsAsync(3, Eventually.Patience);
        var counted = requests.GetMeasurementSnapshot();
        Assert.HasCount(3, counted);
        Assert.IsTrue(counted.All(m => m.Value == 1 && m.ContainsTags(Tags("default", null, "2xx", "success"))));
        Assert.AreEqual(2, counted.Count(m => Equals(m.Tags["backend"], "b1")));
        Assert.AreEqual(1, counted.Count(m => Equals(m.Tags["backend"], "b2")));
        var timed = durations.GetMeasurementSnapshot();
        Assert.HasCount(3, timed);
        Assert.IsTrue(timed.All(m => m.Value > 0 && m.Value < Eventually.Patience.TotalSeconds));
        CollectionAssert.AreEquivalent(counted.Select(m => m.Tags["backend"]).ToList(), timed.Select(m => m.Tags["backend"]).ToList());
    }

    [TestMethod]
    public async Task Backend500_IsASuccessOfStatusClass5xx()
    {
        await using var backend = await TestBackend.StartAsync("b1", context =>
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            return Task.CompletedTask;
        });
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend));
        using var requests = Collect<long>(balancer, BalancingMetrics.Requests);
        using var attempts = Collect<long>(balancer, BalancingMetrics.Attempts);

        using var response = await balancer.Client.GetAsync("/");

        Assert.AreEqual(HttpStatusCode.InternalServerError, response.StatusCode);
        await requests.WaitForMeasurementsAsync(1, Eventually.Patience);
        Assert.IsTrue(requests.LastMeasurement!.MatchesTags(Tags("default", "b1", "5xx", "success")));
        Assert.IsTrue(attempts.GetMeasurementSnapshot().Single().MatchesTags(
            Tag("pool", "default"), Tag("backend", "b1"), Tag("outcome", "success")));
    }

    [TestMethod]
    public async Task RefusedBackendThenRetry_TwoAttemptsOneRetryAndASuccessfulRequest()
    {
        await using var good = await TestBackend.StartAsync("b-good");
        var settings = new Dictionary<string, string?>
        {
            // Configuration order is alphabetical: round robin tries a-dead first.
            ["LoadBalancer:Pools:default:Backends:a-dead:Address"] = $"http://127.0.0.1:{BalancerHost.ClosedPort()}",
            ["LoadBalancer:Pools:default:Backends:b-good:Address"] = good.Address,
        };
        await using var balancer = await BalancerHost.StartAsync(settings);
        using var requests = Collect<long>(balancer, BalancingMetrics.Requests);
        using var attempts = Collect<long>(balancer, BalancingMetrics.Attempts);
        using var retries = Collect<long>(balancer, BalancingMetrics.Retries);

        using var response = await balancer.Client.GetAsync("/");

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        await requests.WaitForMeasurementsAsync(1, Eventually.Patience);
        var tried = attempts.GetMeasurementSnapshot();
        Assert.HasCount(2, tried);
        Assert.IsTrue(tried[0].MatchesTags(Tag("pool", "default"), Tag("backend", "a-dead"), Tag("outcome", "connect_failed")));
        Assert.IsTrue(tried[1].MatchesTags(Tag("pool", "default"), Tag("backend", "b-good"), Tag("outcome", "success")));
        Assert.IsTrue(retries.GetMeasurementSnapshot().Single().MatchesTags(Tag("pool", "default"), Tag("reason", "connect_failed")));
        Assert.IsTrue(requests.GetMeasurementSnapshot().Single().MatchesTags(Tags("default", "b-good", "2xx", "success")));
    }

    [TestMethod]
    public async Task AllBackendsRefuse_RequestIsConnectFailedWithNoStatusClassAndOneDuration()
    {
        var settings = new Dictionary<string, string?>
        {
            ["LoadBalancer:Pools:default:Backends:a-dead:Address"] = $"http://127.0.0.1:{BalancerHost.ClosedPort()}",
            ["LoadBalancer:Pools:default:Backends:b-dead:Address"] = $"http://127.0.0.1:{BalancerHost.ClosedPort()}",
        };
        await using var balancer = await BalancerHost.StartAsync(settings);
        using var requests = Collect<long>(balancer, BalancingMetrics.Requests);
        using var durations = Collect<double>(balancer, BalancingMetrics.RequestDuration);
        using var attempts = Collect<long>(balancer, BalancingMetrics.Attempts);

        using var response = await balancer.Client.GetAsync("/");

        Assert.AreEqual(HttpStatusCode.BadGateway, response.StatusCode);
        await durations.WaitForMeasurementsAsync(1, Eventually.Patience);
        var request = requests.GetMeasurementSnapshot().Single();
        Assert.AreEqual("connect_failed", request.Tags["outcome"]);
        Assert.AreEqual("none", request.Tags["status_class"]);
        Assert.AreEqual(1, durations.GetMeasurementSnapshot().Count, "a request the balancer answered itself is timed too, once");
        Assert.IsTrue(attempts.GetMeasurementSnapshot().All(m => Equals(m.Tags["outcome"], "connect_failed")));
        Assert.AreEqual(3, attempts.GetMeasurementSnapshot().Count, "Retry:MaxAttempts (3) attempts, the last one on a backend tried already");
    }

    [TestMethod]
    public async Task BackendBreaksMidBody_RequestIsResponseAbortedWithTheBackendsStatusClass()
    {
        // The backend breaks only once the client holds the response headers, so the break is mid-body, not before.
        var headersReceived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await TestBackend.StartAsync("b1", async context =>
        {
            context.Response.ContentLength = 1000;
            await context.Response.WriteAsync("part of it");
            await context.Response.Body.FlushAsync();
            await headersReceived.Task;
            context.Abort();
        });
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend));
        using var requests = Collect<long>(balancer, BalancingMetrics.Requests);

        using var response = await balancer.Client.GetAsync("/", HttpCompletionOption.ResponseHeadersRead);
        headersReceived.SetResult();
        await Assert.ThrowsAsync<Exception>(() => response.Content.ReadAsByteArrayAsync(), "the balancer aborts the client connection: the body was cut short");

        await requests.WaitForMeasurementsAsync(1, Eventually.Patience);
        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.IsTrue(requests.LastMeasurement!.MatchesTags(Tags("default", "b1", "2xx", "response_aborted")));
    }

    [TestMethod]
    public async Task SlowRequest_IsActiveAndInFlightUntilItEnds()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await TestBackend.StartAsync("b1", async context =>
        {
            await release.Task;
            await context.Response.WriteAsync("done");
        });
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend));
        using var active = Collect<long>(balancer, BalancingMetrics.ActiveRequests);
        using var inFlight = Collect<long>(balancer, BalancingMetrics.InFlight);

        var pending = balancer.Client.GetAsync("/");
        await active.WaitForMeasurementsAsync(1, Eventually.Patience);
        await Eventually.TrueAsync(() => backend.Received.Count == 1);
        inFlight.RecordObservableInstruments();
        var during = inFlight.LastMeasurement!;
        release.SetResult();
        using (var response = await pending)
        {
            Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        }

        await active.WaitForMeasurementsAsync(2, Eventually.Patience);
        Assert.AreEqual(1L, during.Value);
        Assert.IsTrue(during.MatchesTags(Tag("pool", "default"), Tag("backend", "b1")));
        CollectionAssert.AreEqual(new long[] { 1, -1 }, active.GetMeasurementSnapshot().Select(m => m.Value).ToArray());
        Assert.IsTrue(active.GetMeasurementSnapshot().All(m => m.MatchesTags(Tag("pool", "default"))));
        inFlight.RecordObservableInstruments();
        Assert.AreEqual(0L, inFlight.LastMeasurement!.Value);
    }

    [TestMethod]
    public async Task FiveFailuresInARow_EjectOnceAndTheGaugesShowTheOpenBreaker()
    {
        await using var bad = await TestBackend.StartAsync("a-bad", context =>
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            return Task.CompletedTask;
        });
        await using var good = await TestBackend.StartAsync("b-good");
        var settings = BalancerHost.PoolSettings(bad, good);

        // 500 is not retried, so each request reaches the backend round robin gives it.
        settings["LoadBalancer:Pools:default:Retry:RetryOnStatusCodes"] = "503";
        await using var balancer = await BalancerHost.StartAsync(settings);
        using var ejections = Collect<long>(balancer, BalancingMetrics.Ejections);
        using var breaker = Collect<int>(balancer, BalancingMetrics.BreakerState);
        using var available = Collect<int>(balancer, BalancingMetrics.BackendAvailable);
        using var health = Collect<int>(balancer, BalancingMetrics.BackendHealth);

        for (var i = 0; i < 10; i++)
        {
            using var response = await balancer.Client.GetAsync("/");
        }

        await ejections.WaitForMeasurementsAsync(1, Eventually.Patience);
        Assert.IsTrue(ejections.GetMeasurementSnapshot().Single().MatchesTags(Tag("pool", "default"), Tag("backend", "a-bad")));
        breaker.RecordObservableInstruments();
        available.RecordObservableInstruments();
        health.RecordObservableInstruments();
        Assert.AreEqual(2, Gauge(breaker, "a-bad"), "open");
        Assert.AreEqual(0, Gauge(breaker, "b-good"), "closed");
        Assert.AreEqual(0, Gauge(available, "a-bad"));
        Assert.AreEqual(1, Gauge(available, "b-good"));
        Assert.AreEqual(1, Gauge(health, "a-bad"), "passive health ejects; only active checks make a backend Unhealthy");
    }

    [TestMethod]
    public async Task ClientSideBalancing_RecordsRequestsLikeForwardedOnes()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(BalancerHost.PoolSettings("orders", b1, b2));
        builder.Services.AddLoadBalancerCore();
        builder.Services.AddHttpClient("orders").AddLoadBalancing("orders");
        using var host = builder.Build();
        await host.StartAsync();
        var metrics = host.Services.GetRequiredService<BalancingMetrics>();
        using var requests = new MetricCollector<long>(metrics.Meter, BalancingMetrics.Requests);
        using var durations = new MetricCollector<double>(metrics.Meter, BalancingMetrics.RequestDuration);
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("orders");

        Assert.AreEqual("b1", await client.GetStringAsync("http://orders/a"));
        Assert.AreEqual("b2", await client.GetStringAsync("http://orders/b"));

        CollectionAssert.AreEqual(new[] { "b1", "b2" }, requests.GetMeasurementSnapshot().Select(m => (string)m.Tags["backend"]!).ToArray());
        Assert.IsTrue(requests.GetMeasurementSnapshot().All(m => m.ContainsTags(Tags("orders", null, "2xx", "success"))));
        Assert.HasCount(2, durations.GetMeasurementSnapshot());
        await host.StopAsync();
    }

    private static MetricCollector<T> Collect<T>(BalancerHost balancer, string instrument)
        where T : struct
        => new(balancer.Services.GetRequiredService<BalancingMetrics>().Meter, instrument);

    private static int Gauge(MetricCollector<int> collector, string backend)
        => collector.GetMeasurementSnapshot().Last(m => Equals(m.Tags["backend"], backend)).Value;

    private static KeyValuePair<string, object?>[] Tags(string pool, string? backend, string statusClass, string outcome)
    {
        var tags = new List<KeyValuePair<string, object?>> { Tag("pool", pool), Tag("status_class", statusClass), Tag("outcome", outcome) };
        if (backend is not null)
        {
            tags.Add(Tag("backend", backend));
        }

        return [.. tags];
    }

    private static KeyValuePair<string, object?> Tag(string name, object? value) => new(name, value);
}
