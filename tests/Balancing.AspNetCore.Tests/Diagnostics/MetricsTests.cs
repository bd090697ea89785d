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
        using var durations = Collect<double>(balancer, BalancingMetrics.RequestDuration);

        for (var i = 0; i < 3; i++)
        {
            using var response = await balancer.Client.GetAsync("/");
            Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        }

        await durations.WaitForMeasurementsAsync(3, Eventually.Patience);
        var timed = durations.GetMeasurementSnapshot();
        Assert.HasCount(3, timed, "one duration per request: the histogram's count is the request count");
        Assert.IsTrue(timed.All(m => m.Value > 0 && m.Value < Eventually.Patience.TotalSeconds && m.ContainsTags(Tags("default", null, "2xx", "success"))));
        Assert.AreEqual(2, timed.Count(m => Equals(m.Tags["backend"], "b1")));
        Assert.AreEqual(1, timed.Count(m => Equals(m.Tags["backend"], "b2")));
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
        using var requests = Collect<double>(balancer, BalancingMetrics.RequestDuration);
        using var attempts = Collect<long>(balancer, BalancingMetrics.Attempts);
        using var failures = Collect<long>(balancer, BalancingMetrics.AttemptFailures);

        using var response = await balancer.Client.GetAsync("/");

        Assert.AreEqual(HttpStatusCode.InternalServerError, response.StatusCode);
        await requests.WaitForMeasurementsAsync(1, Eventually.Patience);
        Assert.IsTrue(requests.LastMeasurement!.MatchesTags(Tags("default", "b1", "5xx", "success")));
        attempts.RecordObservableInstruments();
        Assert.IsTrue(attempts.GetMeasurementSnapshot().Single().MatchesTags(Tag("pool", "default"), Tag("backend", "b1")));
        Assert.AreEqual(1L, attempts.LastMeasurement!.Value);
        Assert.IsEmpty(failures.GetMeasurementSnapshot(), "a 500 is a response: the attempt did not fail");
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
        using var requests = Collect<double>(balancer, BalancingMetrics.RequestDuration);
        using var attempts = Collect<long>(balancer, BalancingMetrics.Attempts);
        using var failures = Collect<long>(balancer, BalancingMetrics.AttemptFailures);
        using var retries = Collect<long>(balancer, BalancingMetrics.Retries);

        using var response = await balancer.Client.GetAsync("/");

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        await requests.WaitForMeasurementsAsync(1, Eventually.Patience);
        attempts.RecordObservableInstruments();
        var tried = attempts.GetMeasurementSnapshot().ToDictionary(m => (string)m.Tags["backend"]!, m => m.Value);
        Assert.AreEqual(1L, tried["a-dead"]);
        Assert.AreEqual(1L, tried["b-good"]);
        Assert.IsTrue(failures.GetMeasurementSnapshot().Single().MatchesTags(Tag("pool", "default"), Tag("backend", "a-dead"), Tag("outcome", "connect_failed")));
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
        using var durations = Collect<double>(balancer, BalancingMetrics.RequestDuration);
        using var failures = Collect<long>(balancer, BalancingMetrics.AttemptFailures);

        using var response = await balancer.Client.GetAsync("/");

        Assert.AreEqual(HttpStatusCode.BadGateway, response.StatusCode);
        await durations.WaitForMeasurementsAsync(1, Eventually.Patience);
        var request = durations.GetMeasurementSnapshot().Single();
        Assert.AreEqual("connect_failed", request.Tags["outcome"], "a request the balancer answered itself is timed too, once");
        Assert.AreEqual("none", request.Tags["status_class"]);
        Assert.IsTrue(failures.GetMeasurementSnapshot().All(m => Equals(m.Tags["outcome"], "connect_failed")));
        Assert.AreEqual(3, failures.GetMeasurementSnapshot().Count, "Retry:MaxAttempts (3) attempts, the last one on a backend tried already");
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
        using var requests = Collect<double>(balancer, BalancingMetrics.RequestDuration);

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
        await Eventually.TrueAsync(() => backend.Received.Count == 1);
        active.RecordObservableInstruments();
        inFlight.RecordObservableInstruments();
        var activeDuring = active.LastMeasurement!;
        var during = inFlight.LastMeasurement!;
        release.SetResult();
        using (var response = await pending)
        {
            Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.AreEqual(1L, during.Value);
        Assert.IsTrue(during.MatchesTags(Tag("pool", "default"), Tag("backend", "b1")));
        Assert.AreEqual(1L, activeDuring.Value);
        Assert.IsTrue(activeDuring.MatchesTags(Tag("pool", "default")));
        await Eventually.TrueAsync(() =>
        {
            active.RecordObservableInstruments();
            inFlight.RecordObservableInstruments();
            return active.LastMeasurement!.Value == 0 && inFlight.LastMeasurement!.Value == 0;
        });
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
        using var durations = new MetricCollector<double>(metrics.Meter, BalancingMetrics.RequestDuration);
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("orders");

        Assert.AreEqual("b1", await client.GetStringAsync("http://orders/a"));
        Assert.AreEqual("b2", await client.GetStringAsync("http://orders/b"));

        CollectionAssert.AreEqual(new[] { "b1", "b2" }, durations.GetMeasurementSnapshot().Select(m => (string)m.Tags["backend"]!).ToArray());
        Assert.IsTrue(durations.GetMeasurementSnapshot().All(m => m.ContainsTags(Tags("orders", null, "2xx", "success"))));
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
