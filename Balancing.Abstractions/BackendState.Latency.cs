namespace Balancing;

/// <content>The backend's latency: a peak-weighted moving average of response times (Finagle's and Linkerd's peak EWMA).</content>
public sealed partial class BackendState
{
    // Estimates never go below one microsecond, so a stored estimate is never 0.0f and a packed value of 0 means "no sample".
    private const double MinimumEstimateMilliseconds = 0.001;

    // Gaps of 2^31 ms (24.8 days) or more do not fit the signed 32-bit difference of the packed clock readings.
    private const long LongGapMilliseconds = 1L << 31;

    // The estimate and the clock reading of its last update share one 64-bit word, so one compare-and-swap moves both
    // and no reader ever pairs an estimate with another update's time: the high 32 bits hold the estimate in
    // milliseconds as a float (24 bits of precision is far below the noise of any latency), the low 32 bits the time
    // of the update in whole milliseconds, modulo 2^32. Differences are taken modulo 2^32 as well, so the wrap every
    // 49.7 days does no harm.
    private long _latency;

    // The full 64-bit time of the last update, read only to recognise gaps too long for the packed 32-bit reading.
    // Written after the exchange, so it may lag by one update; that matters only for gaps of weeks, where it cannot.
    private long _latencyUpdatedAt;

    /// <summary>
    /// Gets the backend's latency estimate as of its most recent completed request (not decayed since), or
    /// <see langword="null"/> before the first one.
    /// </summary>
    /// <remarks>
    /// A peak EWMA of the time to response headers: a response slower than the estimate replaces it at once, a faster one
    /// pulls it down with the weight <c>1 - exp(-Δt/τ)</c>, where Δt is the time since the previous update and τ the
    /// pool's <c>PeakEwma:DecayTime</c>. See <see cref="RecordLatency"/> and <see cref="GetLatencyEstimate"/>.
    /// </remarks>
    public TimeSpan? LatencyEstimate
    {
        get
        {
            var packed = Volatile.Read(ref _latency);
            return packed == 0 ? null : TimeSpan.FromMilliseconds(EstimateOf(packed));
        }
    }

    /// <summary>
    /// Adds the latency of one completed request to <see cref="LatencyEstimate"/>: a sample above the estimate replaces it
    /// at once (the peak), a lower one moves the estimate towards it by <c>1 - exp(-Δt/τ)</c> of the gap.
    /// </summary>
    /// <remarks>
    /// Lock-free: a compare-and-swap loop over one 64-bit word. The clock is read in whole milliseconds, so of several
    /// samples that complete within the same millisecond only the first moves the estimate down (the others arrive with
    /// Δt = 0, and so with weight 0); peaks always count. Under that load the estimate follows a sample of the
    /// responses, taken at most once a millisecond, which is as good a witness of the backend's latency as all of them.
    /// </remarks>
    /// <param name="latency">How long the request took, up to its response headers.</param>
    /// <param name="decayTime">τ, the time over which older samples lose weight (the pool's <c>PeakEwma:DecayTime</c>).</param>
    /// <param name="timeProvider">The clock the time since the previous update is measured on.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="latency"/> is negative or <paramref name="decayTime"/> is not positive.</exception>
    public void RecordLatency(TimeSpan latency, TimeSpan decayTime, TimeProvider timeProvider)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(latency, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(decayTime, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(timeProvider);

        var now = Milliseconds(timeProvider);
        var sample = Math.Max(latency.TotalMilliseconds, MinimumEstimateMilliseconds);
        var tau = decayTime.TotalMilliseconds;
        var longGap = IsLongGap(now);
        while (true)
        {
            var packed = Volatile.Read(ref _latency);
            double estimate;
            var stamp = (uint)now;
            if (packed == 0)
            {
                estimate = sample;
            }
            else
            {
                estimate = EstimateOf(packed);
                var elapsed = longGap ? double.PositiveInfinity : (int)((uint)now - StampOf(packed));
                if (elapsed < 0)
                {
                    // Another thread read the clock later and updated first: no time passed for this sample.
                    elapsed = 0;
                    stamp = StampOf(packed);
                }

                if (sample >= estimate)
                {
                    estimate = sample;
                }
                else
                {
                    var weight = Math.Exp(-elapsed / tau);
                    estimate = (estimate * weight) + (sample * (1 - weight));
                }
            }

            var next = Pack(estimate, stamp);
            if (Interlocked.CompareExchange(ref _latency, next, packed) == packed)
            {
                break;
            }
        }

        Volatile.Write(ref _latencyUpdatedAt, now);
    }

    /// <summary>
    /// Gets <see cref="LatencyEstimate"/> decayed towards zero by the time since its last update, <c>estimate × exp(-Δt/τ)</c>,
    /// or <see langword="null"/> before the first sample.
    /// </summary>
    /// <remarks>
    /// The decay at read time is what brings an idle backend back: a backend that was slow and so stopped receiving requests
    /// looks cheaper as time passes, until it is tried again and a fresh sample says how it is doing. Reads only; never
    /// writes, allocates or locks.
    /// </remarks>
    /// <param name="decayTime">τ, the pool's <c>PeakEwma:DecayTime</c>.</param>
    /// <param name="timeProvider">The clock "now" is read from; the one <see cref="RecordLatency"/> was given.</param>
    /// <returns>The decayed estimate, or <see langword="null"/>.</returns>
    public TimeSpan? GetLatencyEstimate(TimeSpan decayTime, TimeProvider timeProvider)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(decayTime, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var packed = Volatile.Read(ref _latency);
        if (packed == 0)
        {
            return null;
        }

        var now = Milliseconds(timeProvider);
        if (IsLongGap(now))
        {
            return TimeSpan.Zero;
        }

        var elapsed = Math.Max(0, (int)((uint)now - StampOf(packed)));
        return TimeSpan.FromMilliseconds(EstimateOf(packed) * Math.Exp(-elapsed / decayTime.TotalMilliseconds));
    }

    private bool IsLongGap(long now)
    {
        // 0 until the first update has finished writing it; the packed word alone decides until then.
        var last = Volatile.Read(ref _latencyUpdatedAt);
        return last != 0 && now - last >= LongGapMilliseconds;
    }

    private static long Milliseconds(TimeProvider timeProvider)
        => (long)(timeProvider.GetTimestamp() * (1000.0 / timeProvider.TimestampFrequency));

    private static long Pack(double estimate, uint stamp)
        => ((long)BitConverter.SingleToInt32Bits((float)Math.Max(estimate, MinimumEstimateMilliseconds)) << 32) | stamp;

    private static double EstimateOf(long packed) => BitConverter.Int32BitsToSingle((int)(packed >> 32));

    private static uint StampOf(long packed) => (uint)packed;
}
