using Balancing.Core.Tests.Infrastructure;
using Balancing.Statistics;
using Microsoft.Extensions.DependencyInjection;

namespace Balancing.Core.Tests.Statistics;

/// <summary>The statistics as the balancer keeps them: fed by the <c>Balancing</c> meter, moved by a fake clock.</summary>
[TestClass]
public sealed class StatisticsCollectorTests
{
    private static readonly DateTimeOffset Start = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [TestMethod]
    public void Snapshot_RequestsOfTheCurrentSecond_ShowOnceTheSecondIsOver()
    {
        using var harness = StatisticsHarness.Create();
        harness.Requests(5, "b1");

        var during = harness.Backend("b1").Last10Seconds.Requests;
        harness.Advance(1);
        var after = harness.Backend("b1");

        Assert.AreEqual(0L, during);
        Assert.AreEqual((5L, 0.5), (after.Last10Seconds.Requests, after.Last10Seconds.RequestsPerSecond));
        Assert.AreEqual((5L, 5 / 60.0), (after.LastMinute.Requests, after.LastMinute.RequestsPerSecond));
    }

    [TestMethod]
    public void Last10Seconds_AfterTenSeconds_DropsTheRequestsThatLastMinuteKeeps()
    {
        using var harness = StatisticsHarness.Create();
        harness.Advance(0.5);
        harness.Requests(5, "b1");

        harness.Advance(9.5);
        var atTen = harness.Backend("b1");
        harness.Advance(1);
        var atEleven = harness.Backend("b1");

        Assert.AreEqual((5L, 5L), (atTen.Last10Seconds.Requests, atTen.LastMinute.Requests));
        Assert.AreEqual((0L, 0.0, 5L), (atEleven.Last10Seconds.Requests, atEleven.Last10Seconds.RequestsPerSecond, atEleven.LastMinute.Requests));
    }

    [TestMethod]
    public void LastMinute_AfterSixtySeconds_DropsTheRequests()
    {
        using var harness = StatisticsHarness.Create();
        harness.Advance(0.5);
        harness.Requests(5, "b1");

        harness.Advance(59.5);
        var atSixty = harness.Backend("b1").LastMinute.Requests;
        harness.Advance(1);
        var atSixtyOne = harness.Backend("b1").LastMinute.Requests;

        Assert.AreEqual((5L, 0L), (atSixty, atSixtyOne));
    }

    [TestMethod]
    public void Windows_SteadyTraffic_ReportTheirAverageRates()
    {
        using var harness = StatisticsHarness.Create();
        for (var second = 0; second < 15; second++)
        {
            harness.Requests(10, "b1");
            harness.Requests(2, "b2", statusClass: "5xx");
            harness.Advance(1);
        }

        var pool = harness.Pool();

        Assert.AreEqual(new WindowStatistics { Window = TimeSpan.FromSeconds(10), Requests = 120, Errors = 20, RequestsPerSecond = 12, ErrorRate = 20 / 120.0 }, pool.Last10Seconds);
        Assert.AreEqual(new WindowStatistics { Window = TimeSpan.FromSeconds(60), Requests = 180, Errors = 30, RequestsPerSecond = 3, ErrorRate = 30 / 180.0 }, pool.LastMinute);
        Assert.AreEqual((100L, 0L), (pool.Backends[0].Last10Seconds.Requests, pool.Backends[0].Last10Seconds.Errors));
        Assert.AreEqual((20L, 20L, 1.0), (pool.Backends[1].Last10Seconds.Requests, pool.Backends[1].Last10Seconds.Errors, pool.Backends[1].Last10Seconds.ErrorRate));
    }

    [TestMethod]
    public void Windows_AfterAPauseLongerThanAMinute_AreEmpty()
    {
        using var harness = StatisticsHarness.Create();
        harness.Requests(5, "b1", statusClass: "5xx");
        harness.Advance(1);

        harness.Advance(3600);
        var backend = harness.Backend("b1");

        Assert.AreEqual((0L, 0L, 0L), (backend.Last10Seconds.Requests, backend.LastMinute.Requests, backend.Latency.Count));
    }

    [TestMethod]
    [DataRow("success", "2xx", false)]
    [DataRow("success", "4xx", false)]
    [DataRow("success", "5xx", true)]
    [DataRow("canceled", "none", false)]
    [DataRow("canceled", "2xx", false)]
    [DataRow("connect_failed", "none", true)]
    [DataRow("response_timeout", "none", true)]
    [DataRow("response_aborted", "2xx", true)]
    [DataRow("no_available_backend", "none", true)]
    public void Request_Outcome_CountsAsAnErrorOnlyWhenTheBackendOrTheExchangeFailed(string outcome, string statusClass, bool error)
    {
        using var harness = StatisticsHarness.Create();
        harness.Request("b1", outcome: outcome, statusClass: statusClass);
        harness.Advance(1);

        var window = harness.Backend("b1").Last10Seconds;

        Assert.AreEqual((1L, error ? 1L : 0L), (window.Requests, window.Errors));
    }

    [TestMethod]
    public void Request_WithoutABackend_CountsForThePoolOnly()
    {
        using var harness = StatisticsHarness.Create();
        harness.Request("none", outcome: "no_available_backend", statusClass: "none");
        harness.Advance(1);

        var pool = harness.Pool();

        Assert.AreEqual((1L, 1L), (pool.Last10Seconds.Requests, pool.Last10Seconds.Errors));
        Assert.IsTrue(pool.Backends.All(b => b.LastMinute.Requests == 0));
    }

    [TestMethod]
    public void Pool_IsItsBackendsPlusItsOwnRequests_RolledUpWhenTheSecondEnds()
    {
        using var harness = StatisticsHarness.Create();
        harness.Requests(3, "b1");
        for (var i = 0; i < 2; i++)
        {
            harness.Request("b2", seconds: 2, statusClass: "5xx");
        }

        harness.Request("none", seconds: 5, outcome: "no_available_backend", statusClass: "none");

        var during = harness.Pool();
        harness.Advance(1);
        var after = harness.Pool();
        harness.Advance(1);
        var later = harness.Pool();

        Assert.AreEqual((0L, 0L), (during.Last10Seconds.Requests, during.Latency.Count));
        Assert.AreEqual((6L, 3L, 6L), (after.Last10Seconds.Requests, after.Last10Seconds.Errors, after.Latency.Count));
        Assert.AreEqual(5.0, after.Latency.Max!.Value.TotalSeconds, 0.05, "the pool's own request is among its latencies");
        Assert.AreEqual(0.01, after.Latency.P50!.Value.TotalSeconds, 0.001, "and so are its backends'");
        Assert.AreEqual((3L, 2L), (harness.Backend("b1").Latency.Count, harness.Backend("b2").Latency.Count), "each backend keeps only its own");
        Assert.AreEqual((6L, 6L), (later.Last10Seconds.Requests, later.Latency.Count), "a second rolled up is counted once");
    }

    [TestMethod]
    public void Request_ForAPoolOrBackendNotConfigured_IsDropped()
    {
        using var harness = StatisticsHarness.Create();
        harness.Request("b9");
        harness.Request("b1", pool: "elsewhere");
        harness.Advance(1);

        var snapshot = harness.Snapshot();

        Assert.AreEqual("default", snapshot.Pools.Single().Name);
        Assert.AreEqual(1L, snapshot.Pools[0].LastMinute.Requests);
        Assert.IsTrue(snapshot.Pools[0].Backends.All(b => b.LastMinute.Requests == 0));
    }

    [TestMethod]
    public void Latency_KnownDurations_PercentilesWithinHdrHistogramPrecision()
    {
        using var harness = StatisticsHarness.Create();
        for (var ms = 1; ms <= 1000; ms++)
        {
            harness.Request("b1", seconds: ms / 1000.0);
        }

        harness.Advance(1);
        var latency = harness.Backend("b1").Latency;

        Assert.AreEqual(1000L, latency.Count);
        AssertClose(TimeSpan.FromMilliseconds(500), latency.P50);
        AssertClose(TimeSpan.FromMilliseconds(950), latency.P95);
        AssertClose(TimeSpan.FromMilliseconds(990), latency.P99);
        AssertClose(TimeSpan.FromMilliseconds(1000), latency.Max);
        AssertClose(TimeSpan.FromMilliseconds(500), harness.Pool().Latency.P50);
    }

    [TestMethod]
    public void Latency_OneSlowRequestInAHundred_ShowsAtP99NotP95()
    {
        using var harness = StatisticsHarness.Create();
        for (var i = 0; i < 98; i++)
        {
            harness.Request("b1", seconds: 0.002);
        }

        harness.Request("b1", seconds: 2.5);
        harness.Request("b1", seconds: 2.5);
        harness.Advance(1);
        var latency = harness.Backend("b1").Latency;

        AssertClose(TimeSpan.FromMilliseconds(2), latency.P95);
        AssertClose(TimeSpan.FromSeconds(2.5), latency.P99);
    }

    [TestMethod]
    public void Latency_SpreadOverTheMinute_MergesEverySlice()
    {
        using var harness = StatisticsHarness.Create();
        for (var second = 0; second < 50; second++)
        {
            harness.Request("b1", seconds: (second + 1) / 1000.0);
            harness.Advance(1);
        }

        var latency = harness.Backend("b1").Latency;

        Assert.AreEqual(50L, latency.Count);
        AssertClose(TimeSpan.FromMilliseconds(25), latency.P50);
        AssertClose(TimeSpan.FromMilliseconds(50), latency.Max);
    }

    [TestMethod]
    public void Latency_SamplesOlderThanTheWindow_AreForgotten()
    {
        using var harness = StatisticsHarness.Create();
        harness.Request("b1", seconds: 0.1);
        harness.Advance(1);
        var fresh = harness.Backend("b1").Latency;

        harness.Advance(60);
        var stale = harness.Backend("b1").Latency;

        Assert.AreEqual(1L, fresh.Count);
        Assert.AreEqual((0L, (TimeSpan?)null, (TimeSpan?)null), (stale.Count, stale.P50, stale.P99));
    }

    [TestMethod]
    public void Latency_OutOfRange_IsClampedAndCounted()
    {
        using var harness = StatisticsHarness.Create();
        harness.Request("b1", seconds: 0);
        harness.Request("b1", seconds: 7200);
        harness.Advance(1);

        var latency = harness.Backend("b1").Latency;

        Assert.AreEqual(2L, latency.Count);
        AssertClose(TimeSpan.FromHours(1), latency.Max);
    }

    [TestMethod]
    public void Retries_AreCountedPerPoolOverBothWindows()
    {
        using var harness = StatisticsHarness.Create();
        harness.Retry();
        harness.Retry("status_503");
        harness.Advance(11);
        harness.Retry();
        harness.Advance(1);

        Assert.AreEqual(new RecentCounts { Last10Seconds = 1, LastMinute = 3 }, harness.Pool().Retries);
    }

    [TestMethod]
    public void Ejections_AreCountedPerBackendAndPool()
    {
        using var harness = StatisticsHarness.Create();
        harness.Ejection("b2");
        harness.Ejection("b2");
        harness.Ejection("b3");
        harness.Advance(1);

        var pool = harness.Pool();

        Assert.AreEqual((3L, 2L, 1L, 0L), (pool.Ejections.LastMinute, pool.Backends[1].Ejections.LastMinute, pool.Backends[2].Ejections.Last10Seconds, pool.Backends[0].Ejections.LastMinute));
    }

    [TestMethod]
    public void Snapshot_LiveState_IsReadFromTheBackend()
    {
        using var harness = StatisticsHarness.Create(Settings.DefaultPool().With(Settings.BackendKey("default", "b2", "Weight"), "3"));
        var b1 = harness.Balancer.Pool().FindBackend("b1")!;
        b1.Eject(Start.AddSeconds(30));
        b1.RequestStarted();
        b1.RecordProbe(ProbeResult.Unhealthy("503"), TimeSpan.FromMilliseconds(12), Start);
        b1.SetHealth(BackendHealth.Unhealthy, "probes", Start);
        b1.RecordLatency(TimeSpan.FromMilliseconds(40), TimeSpan.FromSeconds(10), harness.Clock);

        var pool = harness.Pool();
        var backend = pool.Backends[0];

        Assert.AreEqual(("b1", "http://b1.test:8080/", BackendHealth.Unhealthy, (DateTimeOffset?)Start), (backend.Id, backend.Address, backend.Health, backend.HealthChangedAt));
        Assert.AreEqual((false, 1, BreakerState.Open, (DateTimeOffset?)Start.AddSeconds(30), 1), (backend.IsAvailable, backend.InFlight, backend.BreakerState, backend.EjectedUntil, backend.EjectionCount));
        Assert.AreEqual(new ProbeStatistics { Healthy = false, Description = "503", Latency = TimeSpan.FromMilliseconds(12), At = Start, ConsecutivePasses = 0, ConsecutiveFailures = 1 }, backend.LastProbe);
        Assert.AreEqual(40, backend.LatencyEstimate!.Value.TotalMilliseconds, 0.01);
        Assert.AreEqual((3, 2, LoadStrategyNames.RoundRobin), (pool.Backends[1].Weight, pool.AvailableBackends, pool.Strategy));
        Assert.IsNull(pool.Backends[1].LastProbe);
    }

    [TestMethod]
    public void Snapshot_MonitoringSettings_AreReported()
    {
        using var harness = StatisticsHarness.Create(Settings.DefaultPool().With("LoadBalancer:Monitoring:ErrorRateWindow", "00:00:30"));

        var snapshot = harness.Snapshot();

        Assert.AreEqual((Start, 0.1, TimeSpan.FromSeconds(30), 20), (snapshot.GeneratedAt, snapshot.ErrorRateThreshold, snapshot.ErrorRateWindow, snapshot.MinimumRequests));
    }

    [TestMethod]
    public async Task Reload_BackendRemoved_LeavesTheSnapshotWhileThePoolKeepsItsFigures()
    {
        using var harness = StatisticsHarness.Create();
        harness.Requests(4, "b3");
        harness.Advance(1);

        var result = await harness.Balancer.ChangeAndWaitAsync(Settings.Pool("default", ("b1", "http://b1.test:8080"), ("b2", "http://b2.test:8080")));
        harness.Advance(1);
        var pool = harness.Pool();

        Assert.IsTrue(result.Applied);
        CollectionAssert.AreEqual(new[] { "b1", "b2" }, pool.Backends.Select(b => b.Id).ToArray());
        Assert.AreEqual(4L, pool.LastMinute.Requests);
    }

    [TestMethod]
    public void Listener_TwoContainers_EachCountsOnlyItsOwnMeter()
    {
        using var first = StatisticsHarness.Create();
        using var second = StatisticsHarness.Create();

        first.Requests(3, "b1");
        second.Requests(7, "b1");
        first.Advance(1);
        second.Advance(1);

        Assert.AreEqual((3L, 7L), (first.Backend("b1").LastMinute.Requests, second.Backend("b1").LastMinute.Requests));
    }

    [TestMethod]
    public void Listener_MeterOutsideTheContainer_IsIgnored()
    {
        using var harness = StatisticsHarness.Create();
        using var stray = new System.Diagnostics.Metrics.Meter(BalancingInstruments.MeterName);
        var duration = stray.CreateHistogram<double>(BalancingInstruments.RequestDuration);

        duration.Record(0.1, new KeyValuePair<string, object?>("pool", "default"), new KeyValuePair<string, object?>("backend", "b1"), new KeyValuePair<string, object?>("outcome", "success"));
        harness.Advance(1);

        Assert.AreEqual(0L, harness.Pool().LastMinute.Requests);
    }

    [TestMethod]
    public void Statistics_AreRegisteredByAddLoadBalancerCore()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());

        var statistics = balancer.Services.GetRequiredService<ILoadBalancerStatistics>();
        var hosted = balancer.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>();

        Assert.IsInstanceOfType<StatisticsCollector>(statistics);
        Assert.Contains(statistics, hosted.Cast<object>().ToList());
    }

    private static void AssertClose(TimeSpan expected, TimeSpan? actual)
    {
        Assert.IsNotNull(actual);

        // 2 significant digits: HdrHistogram reports the top of a bucket at most 1/128 above the value, plus 1 µs of rounding.
        var tolerance = expected.TotalMicroseconds / 128 + 1;
        Assert.AreEqual(expected.TotalMicroseconds, actual.Value.TotalMicroseconds, tolerance, $"expected {expected}, got {actual}");
    }
}
