using Microsoft.Extensions.Time.Testing;

namespace Balancing.Core.Tests;

[TestClass]
public sealed class BackendStateLatencyTests
{
    private static readonly TimeSpan Tau = TimeSpan.FromSeconds(10);

    [TestMethod]
    public void LatencyEstimate_NoSample_IsNull()
    {
        var backend = NewBackend();

        Assert.IsNull(backend.LatencyEstimate);
        Assert.IsNull(backend.GetLatencyEstimate(Tau, new FakeTimeProvider()));
    }

    [TestMethod]
    public void RecordLatency_FirstSample_BecomesTheEstimate()
    {
        var backend = NewBackend();

        backend.RecordLatency(TimeSpan.FromMilliseconds(42), Tau, new FakeTimeProvider());

        AssertClose(42, backend.LatencyEstimate);
    }

    [TestMethod]
    public void RecordLatency_SampleAboveEstimate_ReplacesItAtOnce()
    {
        var clock = new FakeTimeProvider();
        var backend = NewBackend();
        backend.RecordLatency(TimeSpan.FromMilliseconds(10), Tau, clock);
        clock.Advance(TimeSpan.FromSeconds(1));

        backend.RecordLatency(TimeSpan.FromMilliseconds(250), Tau, clock);

        AssertClose(250, backend.LatencyEstimate);
    }

    [TestMethod]
    [DataRow(1_000)]
    [DataRow(5_000)]
    [DataRow(20_000)]
    public void RecordLatency_SampleBelowEstimate_MovesTowardsItWithWeightExpOfElapsedOverTau(int elapsedMs)
    {
        var clock = new FakeTimeProvider();
        var backend = NewBackend();
        backend.RecordLatency(TimeSpan.FromMilliseconds(100), Tau, clock);
        clock.Advance(TimeSpan.FromMilliseconds(elapsedMs));

        backend.RecordLatency(TimeSpan.FromMilliseconds(10), Tau, clock);

        var weight = Math.Exp(-elapsedMs / Tau.TotalMilliseconds);
        AssertClose((100 * weight) + (10 * (1 - weight)), backend.LatencyEstimate);
    }

    [TestMethod]
    public void RecordLatency_LowerSampleInTheSameMillisecond_LeavesTheEstimate()
    {
        var clock = new FakeTimeProvider();
        var backend = NewBackend();
        backend.RecordLatency(TimeSpan.FromMilliseconds(100), Tau, clock);

        backend.RecordLatency(TimeSpan.FromMilliseconds(10), Tau, clock);

        AssertClose(100, backend.LatencyEstimate);
    }

    [TestMethod]
    public void RecordLatency_RepeatedFastSamples_ConvergeToTheirLatency()
    {
        var clock = new FakeTimeProvider();
        var backend = NewBackend();
        backend.RecordLatency(TimeSpan.FromMilliseconds(500), Tau, clock);

        for (var i = 0; i < 600; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(100));
            backend.RecordLatency(TimeSpan.FromMilliseconds(5), Tau, clock);
        }

        // 60 s = 6 τ: what is left of the peak is 495 × e^-6 ≈ 1.2 ms.
        AssertClose(5 + (495 * Math.Exp(-6)), backend.LatencyEstimate);
    }

    [TestMethod]
    [DataRow(3_000)]
    [DataRow(10_000)]
    [DataRow(30_000)]
    public void GetLatencyEstimate_WithoutNewSamples_DecaysTowardsZeroByExpOfElapsedOverTau(int elapsedMs)
    {
        var clock = new FakeTimeProvider();
        var backend = NewBackend();
        backend.RecordLatency(TimeSpan.FromMilliseconds(80), Tau, clock);

        clock.Advance(TimeSpan.FromMilliseconds(elapsedMs));

        AssertClose(80 * Math.Exp(-elapsedMs / Tau.TotalMilliseconds), backend.GetLatencyEstimate(Tau, clock));
        AssertClose(80, backend.LatencyEstimate);
    }

    [TestMethod]
    public void GetLatencyEstimate_UsesTheDecayTimeItIsGiven()
    {
        var clock = new FakeTimeProvider();
        var backend = NewBackend();
        backend.RecordLatency(TimeSpan.FromMilliseconds(80), Tau, clock);

        clock.Advance(TimeSpan.FromSeconds(1));

        AssertClose(80 * Math.Exp(-1), backend.GetLatencyEstimate(TimeSpan.FromSeconds(1), clock));
    }

    [TestMethod]
    public void GetLatencyEstimate_AfterWeeksWithoutSamples_IsZero()
    {
        var clock = new FakeTimeProvider();
        var backend = NewBackend();
        backend.RecordLatency(TimeSpan.FromMilliseconds(80), Tau, clock);

        // Past the 49.7 days after which the packed 32-bit millisecond reading wraps to near the same value.
        clock.Advance(TimeSpan.FromMilliseconds(uint.MaxValue + 5_000.0));

        Assert.AreEqual(TimeSpan.Zero, backend.GetLatencyEstimate(Tau, clock));
    }

    [TestMethod]
    public void RecordLatency_AfterWeeksWithoutSamples_TakesTheNewSample()
    {
        var clock = new FakeTimeProvider();
        var backend = NewBackend();
        backend.RecordLatency(TimeSpan.FromMilliseconds(80), Tau, clock);
        clock.Advance(TimeSpan.FromMilliseconds(uint.MaxValue + 5_000.0));

        backend.RecordLatency(TimeSpan.FromMilliseconds(3), Tau, clock);

        AssertClose(3, backend.LatencyEstimate);
    }

    [TestMethod]
    public void RecordLatency_ZeroLatency_KeepsASampleOfAtLeastOneMicrosecond()
    {
        var backend = NewBackend();

        backend.RecordLatency(TimeSpan.Zero, Tau, new FakeTimeProvider());

        Assert.IsNotNull(backend.LatencyEstimate);
        Assert.IsGreaterThan(TimeSpan.Zero, backend.LatencyEstimate.Value);
    }

    [TestMethod]
    public async Task RecordLatency_ManyThreadsAtOnce_EstimateStaysWithinTheSamples()
    {
        var backend = NewBackend();
        var clock = TimeProvider.System;

        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                backend.RecordLatency(TimeSpan.FromMilliseconds(10 + ((i + t) % 11)), Tau, clock);
            }
        })));

        // Whatever the interleaving, every estimate is a mix of samples, so it stays within their range.
        var estimate = backend.LatencyEstimate!.Value.TotalMilliseconds;
        Assert.IsTrue(estimate is >= 10 and <= 20.001, $"estimate {estimate} ms");
    }

    [TestMethod]
    public void RecordLatency_NegativeLatency_Throws()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => NewBackend().RecordLatency(TimeSpan.FromMilliseconds(-1), Tau, TimeProvider.System));
    }

    [TestMethod]
    public void RecordLatency_ZeroDecayTime_Throws()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => NewBackend().RecordLatency(TimeSpan.FromMilliseconds(1), TimeSpan.Zero, TimeProvider.System));
    }

    private static BackendState NewBackend() => new("b1", new Uri("http://b1.test"));

    /// <summary>Within 1 % (and a microsecond, the float's resolution around small values).</summary>
    private static void AssertClose(double expectedMs, TimeSpan? actual)
    {
        Assert.IsNotNull(actual);
        var actualMs = actual.Value.TotalMilliseconds;
        Assert.IsTrue(Math.Abs(actualMs - expectedMs) <= (expectedMs * 0.01) + 0.001, $"expected {expectedMs} ms within 1 %, was {actualMs} ms");
    }
}
