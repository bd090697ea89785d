using Balancing.Core.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Balancing.Core.Tests.Statistics;

/// <summary>Error-rate alerts: judged once a second over <c>Monitoring:ErrorRateWindow</c>, logged once per crossing.</summary>
[TestClass]
public sealed class ErrorRateAlertTests
{
    private const int BackendHigh = 260;
    private const int BackendRecovered = 261;
    private const int PoolHigh = 262;
    private const int PoolRecovered = 263;

    private static readonly DateTimeOffset Start = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [TestMethod]
    public void Alert_ErrorRateReachesTheThreshold_LogsOneWarningAndShowsInTheSnapshot()
    {
        using var harness = StatisticsHarness.Create();
        harness.Requests(18, "b1");
        harness.Requests(2, "b1", statusClass: "5xx");

        harness.Advance(1);
        var backend = harness.Backend("b1");
        var warning = harness.Events(BackendHigh).Single();

        Assert.AreEqual((true, (DateTimeOffset?)Start.AddSeconds(1)), (backend.ErrorRateAlert, backend.AlertSince));
        Assert.AreEqual(LogLevel.Warning, warning.Level);
        Assert.AreEqual("Backend b1 in pool default failed 2 of 20 requests in the last 60 s, an error rate of 0.1, at or above the threshold of 0.1", warning.Message);
        Assert.AreEqual("BackendErrorRateHigh", warning.Id.Name);
    }

    [TestMethod]
    public void Alert_ErrorsGoOn_IsNotLoggedAgain()
    {
        using var harness = StatisticsHarness.Create();
        for (var second = 0; second < 30; second++)
        {
            harness.Requests(20, "b1", statusClass: "5xx");
            harness.Advance(1);
        }

        Assert.AreEqual(1, harness.Events(BackendHigh).Count);
        Assert.AreEqual(Start.AddSeconds(1), harness.Backend("b1").AlertSince);
    }

    [TestMethod]
    public void Alert_RateFallsBelowTheThreshold_LogsOneRecovery()
    {
        using var harness = StatisticsHarness.Create();
        harness.Requests(20, "b1", outcome: "connect_failed", statusClass: "none");
        harness.Advance(1);

        // 20 errors in 201 requests: just below 10 %.
        harness.Requests(181, "b1");
        harness.Advance(1);
        harness.Requests(50, "b1");
        harness.Advance(1);
        var recovered = harness.Events(BackendRecovered).Single();
        var backend = harness.Backend("b1");

        Assert.AreEqual((false, (DateTimeOffset?)null), (backend.ErrorRateAlert, backend.AlertSince));
        Assert.AreEqual(LogLevel.Information, recovered.Level);
        Assert.AreEqual("Backend b1 in pool default is back below the error rate threshold of 0.1: 20 of 201 requests failed in the last 60 s", recovered.Message);
    }

    [TestMethod]
    public void Alert_SecondCrossing_LogsASecondWarning()
    {
        using var harness = StatisticsHarness.Create(Settings.DefaultPool().With("LoadBalancer:Monitoring:ErrorRateWindow", "00:00:05"));
        harness.Requests(20, "b1", statusClass: "5xx");
        harness.Advance(1);
        harness.Advance(5);
        harness.Requests(20, "b1", statusClass: "5xx");
        harness.Advance(1);

        Assert.AreEqual((2, 1), (harness.Events(BackendHigh).Count, harness.Events(BackendRecovered).Count));
    }

    [TestMethod]
    public void Alert_WindowEmptiesOut_Recovers()
    {
        using var harness = StatisticsHarness.Create(Settings.DefaultPool().With("LoadBalancer:Monitoring:ErrorRateWindow", "00:00:10"));
        harness.Requests(20, "b1", statusClass: "5xx");
        harness.Advance(1);

        harness.Advance(9);
        var stillRaised = harness.Backend("b1").ErrorRateAlert;
        harness.Advance(1);

        Assert.IsTrue(stillRaised);
        Assert.IsFalse(harness.Backend("b1").ErrorRateAlert);
        Assert.AreEqual("Backend b1 in pool default is back below the error rate threshold of 0.1: 0 of 0 requests failed in the last 10 s", harness.Events(BackendRecovered).Single().Message);
    }

    [TestMethod]
    public void Alert_FewerRequestsThanMinimum_IsNotRaised()
    {
        using var harness = StatisticsHarness.Create();
        harness.Requests(19, "b1", statusClass: "5xx");
        harness.Advance(1);
        var below = harness.Backend("b1").ErrorRateAlert;

        harness.Requests(1, "b1", statusClass: "5xx");
        harness.Advance(1);

        Assert.IsFalse(below);
        Assert.IsTrue(harness.Backend("b1").ErrorRateAlert);
        Assert.AreEqual(1, harness.Events(BackendHigh).Count);
    }

    [TestMethod]
    public void Alert_MinimumRequestsFromConfiguration_Applies()
    {
        using var harness = StatisticsHarness.Create(Settings.DefaultPool().With("LoadBalancer:Monitoring:MinimumRequests", "3"));
        harness.Requests(3, "b1", statusClass: "5xx");
        harness.Advance(1);

        Assert.IsTrue(harness.Backend("b1").ErrorRateAlert);
    }

    [TestMethod]
    public void Alert_ThresholdFromConfiguration_Applies()
    {
        using var harness = StatisticsHarness.Create(Settings.DefaultPool().With("LoadBalancer:Monitoring:ErrorRateThreshold", "0.5"));
        harness.Requests(11, "b1");
        harness.Requests(9, "b1", statusClass: "5xx");
        harness.Advance(1);
        var below = harness.Backend("b1").ErrorRateAlert;

        harness.Requests(2, "b1", statusClass: "5xx");
        harness.Advance(1);

        Assert.IsFalse(below);
        Assert.IsTrue(harness.Backend("b1").ErrorRateAlert);
    }

    [TestMethod]
    public void Alert_ClientsThatWentAway_AreNoErrors()
    {
        using var harness = StatisticsHarness.Create();
        harness.Requests(50, "b1", outcome: "canceled", statusClass: "none");
        harness.Advance(1);

        Assert.IsFalse(harness.Backend("b1").ErrorRateAlert);
        Assert.AreEqual(0, harness.Events(BackendHigh).Count);
    }

    [TestMethod]
    public void Alert_PoolAndBackend_AreJudgedApart()
    {
        using var harness = StatisticsHarness.Create();

        // b1 fails 20 of 20; the pool, with b2's 200 successes, fails 20 of 220 (9 %).
        harness.Requests(20, "b1", statusClass: "5xx");
        harness.Requests(200, "b2");
        harness.Advance(1);
        var pool = harness.Pool();

        Assert.AreEqual((false, true, false), (pool.ErrorRateAlert, pool.Backends[0].ErrorRateAlert, pool.Backends[1].ErrorRateAlert));
        Assert.AreEqual((1, 0), (harness.Events(BackendHigh).Count, harness.Events(PoolHigh).Count));
    }

    [TestMethod]
    public void Alert_Pool_LogsItsOwnEvents()
    {
        using var harness = StatisticsHarness.Create(Settings.DefaultPool().With("LoadBalancer:Monitoring:ErrorRateWindow", "00:00:01"));
        harness.Requests(25, "none", outcome: "no_available_backend", statusClass: "none");
        harness.Advance(1);
        var raised = harness.Pool();
        harness.Advance(1);

        Assert.AreEqual((true, (DateTimeOffset?)Start.AddSeconds(1)), (raised.ErrorRateAlert, raised.AlertSince));
        Assert.AreEqual("Pool default failed 25 of 25 requests in the last 1 s, an error rate of 1, at or above the threshold of 0.1", harness.Events(PoolHigh).Single().Message);
        Assert.AreEqual("Pool default is back below the error rate threshold of 0.1: 0 of 0 requests failed in the last 1 s", harness.Events(PoolRecovered).Single().Message);
        Assert.AreEqual(LogLevel.Information, harness.Events(PoolRecovered).Single().Level);
    }

    [TestMethod]
    public void Alert_ThresholdRaisedByReload_ClearsOnTheNextTick()
    {
        using var harness = StatisticsHarness.Create();
        harness.Requests(10, "b1");
        harness.Requests(10, "b1", statusClass: "5xx");
        harness.Advance(1);
        var before = harness.Backend("b1").ErrorRateAlert;

        harness.Balancer.Change(Settings.DefaultPool().With("LoadBalancer:Monitoring:ErrorRateThreshold", "0.9"));
        harness.Advance(1);

        Assert.IsTrue(before);
        Assert.IsFalse(harness.Backend("b1").ErrorRateAlert);
    }
}
