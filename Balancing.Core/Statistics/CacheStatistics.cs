namespace Balancing;

/// <summary>
/// What the response cache did with one pool's GET and HEAD requests since the balancer started, by the <c>result</c> tag
/// of <c>balancing.cache.requests</c>.
/// </summary>
public sealed record CacheStatistics
{
    /// <summary>Gets the statistics of a pool the cache has not seen.</summary>
    public static CacheStatistics Empty { get; } = new();

    /// <summary>Gets the requests answered from a fresh stored response, without a backend.</summary>
    public long Hits { get; init; }

    /// <summary>Gets the requests the cache could not answer and forwarded (whether or not the response was then stored).</summary>
    public long Misses { get; init; }

    /// <summary>Gets the requests answered from a stored response after the backend confirmed it with 304 Not Modified.</summary>
    public long Revalidated { get; init; }

    /// <summary>Gets the requests that waited for an identical request already on its way to a backend and shared its response.</summary>
    public long Coalesced { get; init; }

    /// <summary>Gets the GET and HEAD requests the cache left alone (<c>Cache-Control: no-store</c>, <c>Range</c>, ...).</summary>
    public long Bypassed { get; init; }

    /// <summary>
    /// Gets the requests answered from a stale stored response because the backend failed to refresh it (no response, or
    /// 500, 502, 503, 504) within the response's <c>stale-if-error</c> allowance (RFC 5861).
    /// </summary>
    public long ServedStale { get; init; }

    /// <summary>Gets the share of the looked-up requests (all but <see cref="Bypassed"/>) answered without a full backend response.</summary>
    public double HitRatio
    {
        get
        {
            var served = Hits + Revalidated + Coalesced + ServedStale;
            var total = served + Misses;
            return total == 0 ? 0 : (double)served / total;
        }
    }
}
