namespace Balancing;

/// <summary>The most recent active health probe of a backend.</summary>
public sealed record ProbeStatistics
{
    /// <summary>Gets a value indicating whether the backend passed the probe.</summary>
    public required bool Healthy { get; init; }

    /// <summary>Gets the probe's description (for example the status code or the error).</summary>
    public required string? Description { get; init; }

    /// <summary>Gets how long the probe took.</summary>
    public required TimeSpan Latency { get; init; }

    /// <summary>Gets when the probe ended.</summary>
    public required DateTimeOffset At { get; init; }

    /// <summary>Gets how many probes in a row, up to this one, the backend passed.</summary>
    public required int ConsecutivePasses { get; init; }

    /// <summary>Gets how many probes in a row, up to this one, the backend failed.</summary>
    public required int ConsecutiveFailures { get; init; }
}
