using System.Diagnostics.Metrics;
using Balancing.Core.Tests.Infrastructure;
using Balancing.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Balancing.Core.Tests.Diagnostics;

[TestClass]
public sealed class BalancingMetricsTests
{
    [TestMethod]
    public void Meter_IsNamedBalancingAndComesFromTheAppsFactory()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());

        var meter = Metrics(balancer).Meter;

        Assert.AreEqual(BalancingTelemetry.MeterName, meter.Name);
        Assert.AreSame(balancer.Services.GetRequiredService<IMeterFactory>(), meter.Scope);
    }

    [TestMethod]
    public void RequestEnded_RecordsOneDurationInSecondsTaggedByPoolBackendStatusClassAndOutcome()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());
        var metrics = Metrics(balancer);
        using var durations = new MetricCollector<double>(metrics.Meter, BalancingMetrics.RequestDuration);
        var backend = new BackendState("b2", new Uri("http://b2.test"));

        metrics.RequestEnded("default", new FinishedRequest(backend, 503, RequestOutcome.Success), TimeSpan.FromMilliseconds(250));

        var duration = durations.GetMeasurementSnapshot().Single();
        Assert.AreEqual(0.25, duration.Value);
        var expected = new Dictionary<string, object?> { ["pool"] = "default", ["backend"] = "b2", ["status_class"] = "5xx", ["outcome"] = "success" };
        CollectionAssert.AreEquivalent(expected.ToList(), duration.Tags.ToList());
    }

    [TestMethod]
    public void RequestEnded_WithoutBackendOrResponse_TagsNone()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());
        var metrics = Metrics(balancer);
        using var durations = new MetricCollector<double>(metrics.Meter, BalancingMetrics.RequestDuration);

        metrics.RequestEnded("gone", FinishedRequest.PoolNotFound, TimeSpan.Zero);

        var tags = durations.GetMeasurementSnapshot().Single().Tags;
        Assert.AreEqual(("gone", "none", "none", "pool_not_found"), (tags["pool"], tags["backend"], tags["status_class"], tags["outcome"]));
    }

    [TestMethod]
    public void ActiveRequests_ObserveEachPoolsRequestsInFlight()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());
        var metrics = Metrics(balancer);
        using var active = new MetricCollector<long>(metrics.Meter, BalancingMetrics.ActiveRequests);
        var pool = (Balancing.Pools.ServerPool)balancer.Pool();

        pool.RequestStarted();
        pool.RequestStarted();
        active.RecordObservableInstruments();
        pool.RequestEnded(heldRetry: false);
        active.RecordObservableInstruments();

        CollectionAssert.AreEqual(new long[] { 2, 1 }, active.GetMeasurementSnapshot().Select(m => m.Value).ToArray());
        Assert.IsTrue(active.GetMeasurementSnapshot().All(m => Equals(m.Tags["pool"], "default")));
    }

    [TestMethod]
    public void Attempts_ObserveEachBackendsTotalAndFailuresAreCountedAsTheyHappen()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());
        var metrics = Metrics(balancer);
        using var attempts = new MetricCollector<long>(metrics.Meter, BalancingMetrics.Attempts);
        using var failures = new MetricCollector<long>(metrics.Meter, BalancingMetrics.AttemptFailures);
        var b1 = balancer.Pool().FindBackend("b1")!;

        b1.RequestStarted();
        b1.RequestStarted();
        metrics.AttemptEnded("default", b1, new BalancedResponse(null, b1, ForwardError.ConnectFailed, null, TimeSpan.Zero));
        metrics.AttemptEnded("default", b1, new BalancedResponse(new HttpResponseMessage(System.Net.HttpStatusCode.ServiceUnavailable), b1, ForwardError.None, null, TimeSpan.Zero));
        attempts.RecordObservableInstruments();

        CollectionAssert.AreEqual(new long[] { 2, 0, 0 }, attempts.GetMeasurementSnapshot().Select(m => m.Value).ToArray());
        var failure = failures.GetMeasurementSnapshot().Single();
        Assert.AreEqual(("b1", "connect_failed"), (failure.Tags["backend"], failure.Tags["outcome"]), "a 503 is a response, not a failed attempt");
    }

    [TestMethod]
    public async Task BackendGauges_ReadTheBackendsOfTheCurrentConfiguration()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());
        var metrics = Metrics(balancer);
        balancer.Pool().FindBackend("b1")!.RequestStarted();
        using var inFlight = new MetricCollector<long>(metrics.Meter, BalancingMetrics.InFlight);

        inFlight.RecordObservableInstruments();
        var before = inFlight.GetMeasurementSnapshot(clear: true);
        var change = await balancer.ChangeAndWaitAsync(Settings.Pool("default", ("b1", "http://b1.test:8080"), ("b4", "http://b4.test:8080")));
        inFlight.RecordObservableInstruments();
        var after = inFlight.GetMeasurementSnapshot();

        Assert.IsTrue(change.Applied);
        CollectionAssert.AreEqual(new object[] { "b1", "b2", "b3" }, before.Select(m => m.Tags["backend"]).ToArray());
        CollectionAssert.AreEqual(new long[] { 1, 0, 0 }, before.Select(m => m.Value).ToArray());
        CollectionAssert.AreEqual(new object[] { "b1", "b4" }, after.Select(m => m.Tags["backend"]).ToArray());
        Assert.AreEqual(1L, after[0].Value, "b1 survived the reload with its state");
        Assert.IsTrue(after.All(m => Equals(m.Tags["pool"], "default")));
    }

    private static BalancingMetrics Metrics(TestBalancer balancer)
    {
        // Resolving the registry applies the configuration and points the gauges at it.
        _ = balancer.Registry;
        return balancer.Services.GetRequiredService<BalancingMetrics>();
    }
}
