namespace Balancing;

/// <summary>The statistics and live state of one backend.</summary>
/// <remarks>
/// The windows count the requests whose final attempt went to this backend: a request retried on another backend
/// counts there. The live fields are read from <see cref="BackendState"/> when the snapshot is taken.
/// </remarks>
public sealed record BackendStatistics
{
    /// <summary>Gets the backend's name.</summary>
    public required string Id { get; init; }

    /// <summary>Gets the address requests are sent to.</summary>
    public required string Address { get; init; }

    /// <summary>Gets the backend's health.</summary>
    public required BackendHealth Health { get; init; }

    /// <summary>Gets when <see cref="Health"/> last changed, or <see langword="null"/> if it never did.</summary>
    public required DateTimeOffset? HealthChangedAt { get; init; }

    /// <summary>Gets a value indicating whether the backend may receive new requests (see <see cref="BackendState.IsAvailable"/>).</summary>
    public required bool IsAvailable { get; init; }

    /// <summary>Gets the backend's configured weight.</summary>
    public required int Weight { get; init; }

    /// <summary>Gets the number of requests the backend is serving now.</summary>
    public required int InFlight { get; init; }

    /// <summary>Gets the state of the backend's circuit breaker.</summary>
    public required BreakerState BreakerState { get; init; }

    /// <summary>Gets when the current ejection ends, or <see langword="null"/> when the backend is not ejected.</summary>
    public required DateTimeOffset? EjectedUntil { get; init; }

    /// <summary>Gets how many times the backend has been ejected since it joined the pool.</summary>
    public required int EjectionCount { get; init; }

    /// <summary>Gets the attempts sent to the backend since it joined the pool, retried ones included.</summary>
    public required long TotalRequests { get; init; }

    /// <summary>Gets how many of those attempts failed (transport error, timeout, failure status).</summary>
    public required long TotalFailures { get; init; }

    /// <summary>Gets the most recent health probe, or <see langword="null"/> when the backend was never probed.</summary>
    public required ProbeStatistics? LastProbe { get; init; }

    /// <summary>Gets the backend's peak-EWMA latency estimate (see <see cref="BackendState.LatencyEstimate"/>), or <see langword="null"/> before its first response.</summary>
    public required TimeSpan? LatencyEstimate { get; init; }

    /// <summary>Gets the backend's requests of the last 10 seconds.</summary>
    public required WindowStatistics Last10Seconds { get; init; }

    /// <summary>Gets the backend's requests of the last minute.</summary>
    public required WindowStatistics LastMinute { get; init; }

    /// <summary>Gets the durations of the backend's requests over the last minute.</summary>
    public required LatencyStatistics Latency { get; init; }

    /// <summary>Gets how many times passive health ejected the backend recently.</summary>
    public required RecentCounts Ejections { get; init; }

    /// <summary>Gets a value indicating whether the backend's error rate is at or above the alert threshold.</summary>
    public required bool ErrorRateAlert { get; init; }

    /// <summary>Gets when the current alert was raised, or <see langword="null"/> when <see cref="ErrorRateAlert"/> is off.</summary>
    public required DateTimeOffset? AlertSince { get; init; }
}
