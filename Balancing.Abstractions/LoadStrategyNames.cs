namespace Balancing;

/// <summary>The names of the built-in load strategies, as used in configuration (<c>Pools:&lt;name&gt;:Strategy</c>).</summary>
public static class LoadStrategyNames
{
    /// <summary>Each backend in turn. Lock-free and allocation-free.</summary>
    public const string RoundRobin = "RoundRobin";

    /// <summary>
    /// Load-aware: of two random candidates, the one with the lower peak-EWMA latency times requests in flight (per
    /// unit of weight). Follows slow backends at once and returns to them as their latency decays. Allocation-free.
    /// </summary>
    public const string PeakEwma = "PeakEwma";

    /// <summary>
    /// Sticky by key: a Maglev lookup table maps a hash of the request's key (client address, header, cookie or path)
    /// to a backend, so the same key keeps reaching the same backend and few keys move when backends change; a bound
    /// on load sends a key elsewhere while its backend is far busier than average. Allocation-free on the hot path.
    /// </summary>
    public const string ConsistentHash = "ConsistentHash";
}
