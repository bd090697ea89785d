namespace Balancing;

/// <summary>The statistics of one pool: every request forwarded to it, whichever backend served it or none.</summary>
public sealed record PoolStatistics
{
    /// <summary>Gets the pool's name.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the name of the pool's strategy.</summary>
    public required string Strategy { get; init; }

    /// <summary>Gets how many of the pool's backends may receive new requests now.</summary>
    public required int AvailableBackends { get; init; }

    /// <summary>Gets the requests of the last 10 seconds, including those no backend served (no backend available).</summary>
    public required WindowStatistics Last10Seconds { get; init; }

    /// <summary>Gets the requests of the last minute, including those no backend served.</summary>
    public required WindowStatistics LastMinute { get; init; }

    /// <summary>Gets the durations of the pool's requests over the last minute.</summary>
    public required LatencyStatistics Latency { get; init; }

    /// <summary>Gets how many retries the pool's requests made.</summary>
    public required RecentCounts Retries { get; init; }

    /// <summary>Gets how many times passive health ejected one of the pool's backends.</summary>
    public required RecentCounts Ejections { get; init; }

    /// <summary>
    /// Gets how many of the pool's requests the rate limiter refused with 429. They are also in
    /// <see cref="Last10Seconds"/> and <see cref="LastMinute"/> as requests, but not as errors.
    /// </summary>
    public required RecentCounts RateLimited { get; init; }

    /// <summary>Gets a value indicating whether the pool's error rate is at or above the alert threshold.</summary>
    public required bool ErrorRateAlert { get; init; }

    /// <summary>Gets when the current alert was raised, or <see langword="null"/> when <see cref="ErrorRateAlert"/> is off.</summary>
    public required DateTimeOffset? AlertSince { get; init; }

    /// <summary>Gets what the response cache did with the pool's GET and HEAD requests since start; all zero when caching is off.</summary>
    public CacheStatistics Cache { get; init; } = CacheStatistics.Empty;

    /// <summary>Gets the pool's backends, in configuration order.</summary>
    public required IReadOnlyList<BackendStatistics> Backends { get; init; }
}
