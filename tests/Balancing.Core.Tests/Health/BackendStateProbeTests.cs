namespace Balancing.Core.Tests.Health;

/// <summary>The probe-tracking members of <see cref="BackendState"/>.</summary>
[TestClass]
public sealed class BackendStateProbeTests
{
    private static readonly DateTimeOffset Now = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [TestMethod]
    public void LastProbe_NoProbeYet_IsNullAndCountersAreZero()
    {
        var backend = new BackendState("b1", new Uri("http://b1.test"));

        Assert.AreEqual(((ProbeResult?)null, (TimeSpan?)null, (DateTimeOffset?)null, 0, 0),
            (backend.LastProbe, backend.LastProbeLatency, backend.LastProbeAt, backend.ConsecutiveProbePasses, backend.ConsecutiveProbeFailures));
    }

    [TestMethod]
    public void RecordProbe_Pass_StoresResultLatencyAndTime()
    {
        var backend = new BackendState("b1", new Uri("http://b1.test"));

        backend.RecordProbe(ProbeResult.Healthy("HTTP 200"), TimeSpan.FromMilliseconds(12), Now);

        Assert.AreEqual(((ProbeResult?)ProbeResult.Healthy("HTTP 200"), (TimeSpan?)TimeSpan.FromMilliseconds(12), (DateTimeOffset?)Now),
            (backend.LastProbe, backend.LastProbeLatency, backend.LastProbeAt));
    }

    [TestMethod]
    public void RecordProbe_PassesInARow_CountsThemAndReturnsTheRun()
    {
        var backend = new BackendState("b1", new Uri("http://b1.test"));

        var runs = Enumerable.Range(0, 3).Select(_ => backend.RecordProbe(ProbeResult.Healthy(), TimeSpan.Zero, Now)).ToList();

        Assert.AreSequenceEqual(new[] { 1, 2, 3 }, runs);
        Assert.AreEqual((3, 0), (backend.ConsecutiveProbePasses, backend.ConsecutiveProbeFailures));
    }

    [TestMethod]
    public void RecordProbe_FailureAfterPasses_ResetsPassesAndStartsFailures()
    {
        var backend = new BackendState("b1", new Uri("http://b1.test"));
        backend.RecordProbe(ProbeResult.Healthy(), TimeSpan.Zero, Now);
        backend.RecordProbe(ProbeResult.Healthy(), TimeSpan.Zero, Now);

        var run = backend.RecordProbe(ProbeResult.Unhealthy("HTTP 503"), TimeSpan.Zero, Now);

        Assert.AreEqual((1, 0, 1), (run, backend.ConsecutiveProbePasses, backend.ConsecutiveProbeFailures));
    }

    [TestMethod]
    public void RecordProbe_DoesNotChangeHealthOrTraffic()
    {
        var backend = new BackendState("b1", new Uri("http://b1.test"));

        for (var i = 0; i < 5; i++)
        {
            backend.RecordProbe(ProbeResult.Unhealthy("down"), TimeSpan.Zero, Now);
        }

        Assert.AreEqual((BackendHealth.Unknown, 0L, 0L), (backend.Health, backend.TotalRequests, backend.TotalFailures));
    }

    [TestMethod]
    public void RecordProbe_NegativeLatency_Throws()
    {
        var backend = new BackendState("b1", new Uri("http://b1.test"));

        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => backend.RecordProbe(ProbeResult.Healthy(), TimeSpan.FromTicks(-1), Now));
    }

    [TestMethod]
    public void RecordProbe_ManyThreads_CountsEveryProbe()
    {
        var backend = new BackendState("b1", new Uri("http://b1.test"));

        Parallel.For(0, 10_000, _ => backend.RecordProbe(ProbeResult.Unhealthy("down"), TimeSpan.Zero, Now));

        Assert.AreEqual(10_000, backend.ConsecutiveProbeFailures);
    }

    [TestMethod]
    public void ClearProbes_AfterProbes_ForgetsThem()
    {
        var backend = new BackendState("b1", new Uri("http://b1.test"));
        backend.RecordProbe(ProbeResult.Unhealthy("down"), TimeSpan.Zero, Now);

        backend.ClearProbes();

        Assert.AreEqual(((ProbeResult?)null, (DateTimeOffset?)null, 0), (backend.LastProbe, backend.LastProbeAt, backend.ConsecutiveProbeFailures));
    }
}
