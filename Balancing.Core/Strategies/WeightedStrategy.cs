namespace Balancing.Strategies;

/// <summary>
/// What the built-in weighing strategies share: the pool hands them its <see cref="EffectiveWeights"/> (configured
/// weights and slow-start ramps), a pick among fewer than two candidates needs no weighing, and the time the weights are
/// computed for is read once per pick (not at all while nothing ramps).
/// </summary>
internal abstract class WeightedStrategy : ILoadStrategy, IPoolAwareStrategy
{
    private EffectiveWeights _weights = new(TimeProvider.System);

    public abstract string Name { get; }

    public void PoolUpdated(Pools.ServerPool pool) => _weights = pool.Weights;

    public BackendState? Pick(ReadOnlySpan<BackendState> candidates, in BalancingContext context)
    {
        if (candidates.Length <= 1)
        {
            return candidates.IsEmpty ? null : candidates[0];
        }

        var weights = _weights;
        return Pick(candidates, weights, weights.Now());
    }

    /// <summary>Chooses one of two or more candidates.</summary>
    /// <param name="candidates">The candidates; at least two.</param>
    /// <param name="weights">The pool's effective weights.</param>
    /// <param name="now">The time from <see cref="EffectiveWeights.Now"/>, for <see cref="EffectiveWeights.Of"/>.</param>
    /// <returns>The chosen backend.</returns>
    protected abstract BackendState? Pick(ReadOnlySpan<BackendState> candidates, EffectiveWeights weights, long now);
}
