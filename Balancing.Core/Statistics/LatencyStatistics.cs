namespace Balancing;

/// <summary>Percentiles of request durations over a sliding window.</summary>
/// <remarks>
/// A request's duration runs from the start of forwarding to its end (the last byte of the response relayed, or the
/// error answered). The values come from an HdrHistogram with 3 significant digits: each is within 0.1 % of a recorded
/// duration. The window is made of 10-second slices and covers the last 50 to 60 seconds.
/// </remarks>
public sealed record LatencyStatistics
{
    /// <summary>Gets the nominal length of the window (1 minute).</summary>
    public required TimeSpan Window { get; init; }

    /// <summary>Gets the number of durations in the window.</summary>
    public required long Count { get; init; }

    /// <summary>Gets the median, or <see langword="null"/> when <see cref="Count"/> is 0.</summary>
    public required TimeSpan? P50 { get; init; }

    /// <summary>Gets the 95th percentile, or <see langword="null"/> when <see cref="Count"/> is 0.</summary>
    public required TimeSpan? P95 { get; init; }

    /// <summary>Gets the 99th percentile, or <see langword="null"/> when <see cref="Count"/> is 0.</summary>
    public required TimeSpan? P99 { get; init; }

    /// <summary>Gets the longest duration, or <see langword="null"/> when <see cref="Count"/> is 0.</summary>
    public required TimeSpan? Max { get; init; }
}
