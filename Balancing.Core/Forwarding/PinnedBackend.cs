using Balancing.Pools;

namespace Balancing.Forwarding;

/// <summary>
/// Session affinity in the engine: a request pinned to a backend (<see cref="BalancingContext.AffinityBackendId"/>) goes
/// there on its first attempt when that backend is available; otherwise the pool's <c>SessionAffinity:OnUnavailable</c>
/// decides between the strategy (<see cref="AffinityUnavailablePolicy.Redistribute"/>) and a 503
/// (<see cref="AffinityUnavailablePolicy.Fail"/>). Requests without a pin never reach this class.
/// </summary>
internal static class PinnedBackend
{
    /// <summary>Finds the pinned backend among the candidates: a linear scan, no allocation, no lock.</summary>
    public static BackendState? Find(ReadOnlySpan<BackendState> candidates, string backendId)
    {
        foreach (var candidate in candidates)
        {
            if (string.Equals(candidate.Id, backendId, StringComparison.OrdinalIgnoreCase))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Whether a pinned request must stay on its backend (or fail) rather than go to another one.</summary>
    public static bool MustStay(ServerPool pool) => pool.Options.SessionAffinity.OnUnavailable == AffinityUnavailablePolicy.Fail;

    /// <summary>
    /// Under <see cref="AffinityUnavailablePolicy.Fail"/>, a pinned attempt that never reached its backend (connection refused
    /// or timed out, breaker open) means the backend is unavailable, and is reported as such: 503 with <c>Retry-After</c>
    /// rather than a 502 or 504 that would blame a backend nobody may try instead.
    /// </summary>
    public static BalancedResponse Settle(BalancedResponse result)
        => result.Error is ForwardError.ConnectFailed or ForwardError.ConnectTimeout
            ? new BalancedResponse(null, result.Backend, ForwardError.NoAvailableBackend, result.Exception, result.Elapsed)
            : result;
}
