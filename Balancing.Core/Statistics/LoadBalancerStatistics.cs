namespace Balancing;

/// <summary>A snapshot of the balancer's statistics, from <see cref="ILoadBalancerStatistics.GetSnapshot"/>.</summary>
public sealed record LoadBalancerStatistics
{
    /// <summary>Gets when the snapshot was taken, from the balancer's <see cref="TimeProvider"/>.</summary>
    public required DateTimeOffset GeneratedAt { get; init; }

    /// <summary>Gets the error rate at or above which an alert is raised (<c>Monitoring:ErrorRateThreshold</c>).</summary>
    public required double ErrorRateThreshold { get; init; }

    /// <summary>Gets the window the alerting error rate is measured over (<c>Monitoring:ErrorRateWindow</c>).</summary>
    public required TimeSpan ErrorRateWindow { get; init; }

    /// <summary>Gets how many requests the window needs before its error rate can raise an alert (<c>Monitoring:MinimumRequests</c>).</summary>
    public required int MinimumRequests { get; init; }

    /// <summary>Gets every configured pool, ordered by name.</summary>
    public required IReadOnlyList<PoolStatistics> Pools { get; init; }

    /// <summary>Gets the stores shared with the balancer's other instances and whether they answer; empty when nothing is shared.</summary>
    public IReadOnlyList<SharedStateStatistics> SharedState { get; init; } = [];
}
