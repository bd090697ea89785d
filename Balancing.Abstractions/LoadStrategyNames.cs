namespace Balancing;

/// <summary>The names of the built-in load strategies, as used in configuration (<c>Pools:&lt;name&gt;:Strategy</c>).</summary>
public static class LoadStrategyNames
{
    /// <summary>
    /// Each backend in turn, ignoring weights (use <see cref="WeightedRoundRobin"/> for those). Lock-free and allocation-free.
    /// </summary>
    public const string RoundRobin = "RoundRobin";

    /// <summary>
    /// Each backend in turn, as often as its weight says, interleaved as NGINX does it (weights 5, 1, 1 give
    /// a a b a c a a): the sequence is exact and smooth, not bursts of one backend. Lock-free and allocation-free.
    /// </summary>
    public const string WeightedRoundRobin = "WeightedRoundRobin";

    /// <summary>
    /// The backend with the fewest requests in flight relative to its weight; ties go to one of the tied backends at random,
    /// in proportion to weight. Suits requests of uneven cost. Reads every candidate's count on each pick.
    /// </summary>
    public const string LeastConnections = "LeastConnections";

    /// <summary>
    /// Two different backends drawn at random in proportion to weight; the one with fewer requests in flight relative to its
    /// weight wins. Nearly as good as <see cref="LeastConnections"/> at spreading load, at a constant cost per pick.
    /// </summary>
    public const string PowerOfTwoChoices = "PowerOfTwoChoices";

    /// <summary>A backend drawn at random in proportion to its weight.</summary>
    public const string Random = "Random";

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
