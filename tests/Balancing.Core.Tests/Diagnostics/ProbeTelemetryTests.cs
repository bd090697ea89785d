using System.Collections.Concurrent;
using System.Diagnostics;
using Balancing.Core.Tests.Health;
using Balancing.Core.Tests.Infrastructure;
using Balancing.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Balancing.Core.Tests.Diagnostics;

/// <summary>What active health checks record: probe durations and failures, the health gauge, a span per probe.</summary>
[TestClass]
public sealed class ProbeTelemetryTests
{
    [TestMethod]
    public async Task Probes_RecordTheirDurationByResultAndCountFailures()
    {
        await using var harness = await HealthCheckHarness.StartAsync();
        await harness.RoundAsync();
        var metrics = harness.Balancer.Services.GetRequiredService<BalancingMetrics>();
        using var durations = new MetricCollector<double>(metrics.Meter, BalancingMetrics.ProbeDuration);
        using var failures = new MetricCollector<long>(metrics.Meter, BalancingMetrics.ProbeFailures);

        // b1 takes 250 ms of the fake clock and passes; b2 fails at once.
        harness.Script.Set("b1", (_, _) =>
        {
            harness.Clock.Advance(TimeSpan.FromMilliseconds(250));
            return ValueTask.FromResult(ProbeResult.Healthy("ok"));
        });
        harness.Script.Set("b2", ProbeScript.Failing);
        await harness.RoundAsync();

        var timed = durations.GetMeasurementSnapshot();
        Assert.HasCount(2, timed);
        var b1 = timed.Single(m => Equals(m.Tags["backend"], "b1"));
        var b2 = timed.Single(m => Equals(m.Tags["backend"], "b2"));
        Assert.AreEqual((0.25, "pass", "default"), (b1.Value, b1.Tags["result"], b1.Tags["pool"]));
        Assert.AreEqual("fail", b2.Tags["result"]);
        var failed = failures.GetMeasurementSnapshot().Single();
        Assert.AreEqual(1L, failed.Value);
        Assert.IsTrue(failed.MatchesTags(new KeyValuePair<string, object?>("pool", "default"), new KeyValuePair<string, object?>("backend", "b2")));
    }

    [TestMethod]
    public async Task HealthAndAvailableGauges_FollowActiveChecks()
    {
        await using var harness = await HealthCheckHarness.StartAsync(script: s => s.Set("b2", ProbeScript.Failing));
        var metrics = harness.Balancer.Services.GetRequiredService<BalancingMetrics>();
        using var health = new MetricCollector<int>(metrics.Meter, BalancingMetrics.BackendHealth);
        using var available = new MetricCollector<int>(metrics.Meter, BalancingMetrics.BackendAvailable);

        await harness.RoundsAsync(3);
        health.RecordObservableInstruments();
        available.RecordObservableInstruments();

        Assert.AreEqual(BackendHealth.Unhealthy, harness.Backend("b2").Health, "three failures in a row");
        Assert.AreEqual((1, 0), (Gauge(health, "b1"), Gauge(health, "b2")));
        Assert.AreEqual((1, 0), (Gauge(available, "b1"), Gauge(available, "b2")));
    }

    [TestMethod]
    public async Task EachProbe_IsARootSpanWithItsVerdict()
    {
        const string Pool = "traced-probes";
        var active = $"LoadBalancer:Pools:{Pool}:HealthCheck:Active";
        var settings = Settings.Pool(Pool, ("b1", "http://b1.test:8080"), ("b2", "http://b2.test:8080"))
            .With($"{active}:Enabled", "true")
            .With($"{active}:Probe", HealthCheckHarness.ProbeName)
            .With($"{active}:Interval", "00:00:02")
            .With($"{active}:Jitter", "0");
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == BalancingTelemetry.ActivitySourceName,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        using var outer = new Activity("unrelated").Start();

        await using var harness = await HealthCheckHarness.StartAsync(settings, s => s.Set("b2", ProbeScript.Failing));
        await harness.RoundAsync(Pool);

        var spans = stopped.Where(a => Equals(a.GetTagItem("balancing.pool"), Pool)).ToList();
        Assert.HasCount(2, spans);
        Assert.IsTrue(spans.All(s => s.OperationName == "balancing.probe" && s.Kind == ActivityKind.Internal));
        Assert.IsTrue(spans.All(s => s.Parent is null && s.ParentSpanId == default), "a probe belongs to no request");
        var b1 = spans.Single(s => Equals(s.GetTagItem("balancing.backend"), "b1"));
        var b2 = spans.Single(s => Equals(s.GetTagItem("balancing.backend"), "b2"));
        Assert.AreEqual(("pass", ActivityStatusCode.Unset), (b1.GetTagItem("balancing.probe.result"), b1.Status));
        Assert.AreEqual(("fail", ActivityStatusCode.Error, "down"), (b2.GetTagItem("balancing.probe.result"), b2.Status, b2.StatusDescription));
        Assert.AreEqual("b1.test", b1.GetTagItem("server.address"));
        Assert.AreEqual(8080, b1.GetTagItem("server.port"));
    }

    private static int Gauge(MetricCollector<int> collector, string backend)
        => collector.GetMeasurementSnapshot().Last(m => Equals(m.Tags["backend"], backend)).Value;
}
