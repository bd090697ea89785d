namespace Balancing;

/// <summary>
/// The balancer's request statistics and live backend state, as served by <c>MapLoadBalancerStats()</c>: request rates,
/// error rates and latency percentiles per pool and per backend over sliding windows, retries, ejections, health, breaker
/// state and error-rate alerts. Registered by <c>AddLoadBalancer()</c> (and <c>AddLoadBalancerCore()</c>).
/// </summary>
/// <remarks>
/// The figures come from the measurements of the <c>Balancing</c> meter (<c>balancing.request.duration</c>,
/// <c>balancing.retries</c>, <c>balancing.backend.ejections</c>), counted in one-second buckets: a window holds the most
/// recent completed seconds, so its figures move once a second. See docs/STATS.md.
/// </remarks>
public interface ILoadBalancerStatistics
{
    /// <summary>Takes a consistent snapshot of every pool and backend in the current configuration.</summary>
    /// <returns>The snapshot; a new, immutable object on every call.</returns>
    LoadBalancerStatistics GetSnapshot();
}
