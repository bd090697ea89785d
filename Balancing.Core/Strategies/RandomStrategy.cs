namespace Balancing.Strategies;

/// <summary>
/// A backend drawn at random in proportion to its effective weight: one draw and a binary search over the running sums
/// of the weights, precomputed per candidate snapshot. No lock, no allocation.
/// </summary>
internal sealed class RandomStrategy : ILoadStrategy, IPoolAwareStrategy
{
    private readonly Random _random;
    private EffectiveWeights _weights = new(TimeProvider.System);
    private WeightTable? _table;

    /// <summary>Creates the strategy.</summary>
    /// <param name="random">The source of randomness; <see cref="Random.Shared"/> (thread-safe) when <see langword="null"/>. Tests pass a seeded one.</param>
    public RandomStrategy(Random? random = null)
    {
        _random = random ?? Random.Shared;
    }

    public string Name => LoadStrategyNames.Random;

    public void PoolUpdated(Pools.ServerPool pool) => _weights = pool.Weights;

    public BackendState? Pick(ReadOnlySpan<BackendState> candidates, in BalancingContext context)
    {
        if (candidates.Length <= 1)
        {
            return candidates.IsEmpty ? null : candidates[0];
        }

        var weights = _weights;
        var now = weights.Now();
        var table = WeightTable.For(ref _table, candidates, weights, now, withSequence: false);
        if (table is null)
        {
            return WeightedDraw.Pick(candidates, weights, now, _random);
        }

        // Balancing needs spread, not unpredictability.
#pragma warning disable CA5394
        return table.Total > 0
            ? candidates[table.IndexOf(_random.NextInt64(table.Total))]
            : candidates[_random.Next(candidates.Length)];
#pragma warning restore CA5394
    }
}
