using HdrHistogram;

namespace Balancing.Statistics;

/// <summary>
/// The distribution of request durations over the last minute, for percentiles: an HdrHistogram <see cref="Recorder"/>
/// takes samples from any thread, and once a second the clock moves what it holds into the current of six 10-second
/// slices. Percentiles merge the slices, so they cover the last 50 to 60 seconds.
/// </summary>
/// <remarks>
/// Values are microseconds from 1 µs to 1 hour with 2 significant digits: any value is reported within 1 % of what was
/// recorded (HdrHistogram reports the top of the value's bucket), plenty for a p99 on a dashboard, and a tenth of the
/// memory 3 digits take. A longer sample is counted as 1 hour. Each histogram holds about 3,300 32-bit counts (13 KiB);
/// the recorder uses two and the slices up to six, about 105 KiB in all, allocated as samples arrive and kept until the
/// window is dropped.
/// </remarks>
internal sealed class LatencyWindow
{
    public const int SliceCount = 6;
    public const int SliceSeconds = 10;
    public const long LowestMicroseconds = 1;
    public const long HighestMicroseconds = 3_600_000_000;
    public const int SignificantDigits = 2;

    private readonly Recorder _recorder = HistogramFactory.With32BitBucketSize()
        .WithValuesFrom(LowestMicroseconds)
        .WithValuesUpTo(HighestMicroseconds)
        .WithPrecisionOf(SignificantDigits)
        .WithThreadSafeWrites()
        .WithThreadSafeReads()
        .Create();

    private readonly HistogramBase?[] _slices = new HistogramBase?[SliceCount];
    private HistogramBase? _interval;
    private int _slice;
    private int _secondsInSlice;
    private int _pending;

    /// <summary>Creates an empty histogram of the same range and precision, for merging slices into.</summary>
    public static HistogramBase CreateHistogram() => new IntHistogram(LowestMicroseconds, HighestMicroseconds, SignificantDigits);

    /// <summary>Records one duration. Wait-free; safe from any thread.</summary>
    /// <param name="seconds">The duration in seconds.</param>
    public void Record(double seconds)
    {
        // Out-of-range and NaN samples are clamped rather than dropped: the request happened and counts.
        var microseconds = seconds * 1_000_000;
        var value = microseconds >= HighestMicroseconds ? HighestMicroseconds
            : microseconds >= LowestMicroseconds ? (long)microseconds
            : LowestMicroseconds;
        _recorder.RecordValue(value);

        // After the value: the clock drains only when it sees the flag, and then finds the value in the recorder. Read
        // before written: under load the flag is set already, and a write per request would bounce its cache line
        // between cores. Seeing it set is enough: the clock clears it before it drains, so this value is drained then.
        if (Volatile.Read(ref _pending) == 0)
        {
            Volatile.Write(ref _pending, 1);
        }
    }

    /// <summary>
    /// Ends one second: moves the samples taken since the last call into the current slice. Called by one thread at a time.
    /// </summary>
    /// <returns>
    /// The samples of the second that ended, or <see langword="null"/> when there were none. The histogram is reused by the
    /// next call: use it before then.
    /// </returns>
    public HistogramBase? Advance()
    {
        HistogramBase? ended = null;
        if (Interlocked.Exchange(ref _pending, 0) != 0)
        {
            _interval = _recorder.GetIntervalHistogram(_interval);
            if (_interval.TotalCount > 0)
            {
                (_slices[_slice] ??= CreateHistogram()).Add(_interval);
                ended = _interval;
            }
        }

        if (++_secondsInSlice == SliceSeconds)
        {
            // The oldest slice becomes the current one. It is cleared, not dropped: a busy window would otherwise
            // allocate a large-object-heap array every 10 seconds.
            _secondsInSlice = 0;
            _slice = _slice + 1 == SliceCount ? 0 : _slice + 1;
            _slices[_slice]?.Reset();
        }

        return ended;
    }

    /// <summary>
    /// Adds samples recorded elsewhere to the current slice: a pool's window takes in its backends' seconds this way, so
    /// that a request is recorded once. Called by the clock's thread, before this window's own <see cref="Advance"/>.
    /// </summary>
    public void Absorb(HistogramBase samples) => (_slices[_slice] ??= CreateHistogram()).Add(samples);

    /// <summary>Replaces the content of <paramref name="target"/> with every sample of the window. Called by the clock's thread.</summary>
    /// <param name="target">A histogram from <see cref="CreateHistogram"/>.</param>
    public void CopyTo(HistogramBase target)
    {
        target.Reset();
        foreach (var slice in _slices)
        {
            if (slice is not null && slice.TotalCount > 0)
            {
                target.Add(slice);
            }
        }
    }
}
