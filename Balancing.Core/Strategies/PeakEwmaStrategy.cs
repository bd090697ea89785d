using Balancing.Pools;

namespace Balancing.Strategies;

/// <summary>
/// Finagle's and Linkerd's peak-EWMA balancer: of two distinct random candidates, the one with the lower cost,
/// <c>latency estimate × (in flight + 1) / weight</c>, where the estimate is the backend's peak EWMA decayed by the time
/// since its last sample. A slow backend loses the comparison at once (a slow sample replaces the estimate); as its
/// estimate decays it wins again, is tried, and its next answer says whether it recovered. No lock, no allocation.
/// </summary>
internal sealed class PeakEwmaStrategy : ILoadStrategy, IPoolAwareStrategy
{
    private static readonly PeakEwmaOptions Defaults = new();

    private readonly TimeProvider _timeProvider;
    private volatile ServerPool? _pool;

    public PeakEwmaStrategy(TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
    }

    public string Name => LoadStrategyNames.PeakEwma;

    public void PoolUpdated(ServerPool pool) => _pool = pool;

    public BackendState? Pick(ReadOnlySpan<BackendState> candidates, in BalancingContext context)
    {
        if (candidates.Length < 2)
        {
            return candidates.IsEmpty ? null : candidates[0];
        }

        // Two distinct candidates, uniformly: the second is drawn from the others.
        var first = Random.Shared.Next(candidates.Length);
        var second = Random.Shared.Next(candidates.Length - 1);
        if (second >= first)
        {
            second++;
        }

        var pool = _pool;
        var options = pool?.Options.PeakEwma ?? Defaults;
        var weights = pool?.Weights;
        var now = weights?.Now() ?? 0;
        var a = candidates[first];
        var b = candidates[second];
        return Cost(b, options, weights, now) < Cost(a, options, weights, now) ? b : a;
    }

    /// <summary>The backend's cost in 100 ns ticks per unit of (effective, slow-start) weight; lower is better.</summary>
    internal double Cost(BackendState backend, PeakEwmaOptions options, EffectiveWeights? weights = null, long now = 0)
    {
        var weight = weights?.Of(backend, now) ?? backend.Weight;
        if (weight <= 0)
        {
            return double.PositiveInfinity;
        }

        var inFlight = backend.InFlight;
        if (backend.GetLatencyEstimate(options.DecayTime, _timeProvider) is { } estimate)
        {
            // At least one tick, so that among backends whose estimates have decayed to nothing the in-flight count still decides.
            return Math.Max(estimate.Ticks, 1) * (double)(inFlight + 1) / weight;
        }

        // Never answered: free while idle, so every new backend is tried at once; each request in flight on it counts as
        // DefaultLatency until its first answer, so it is not flooded before anything is known.
        return options.DefaultLatency.Ticks * (double)inFlight / weight;
    }
}
