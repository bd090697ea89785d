namespace Balancing.Strategies;

/// <summary>
/// A backend drawn at random in proportion to its effective weight: one draw and a binary search over the running sums
/// of the weights, precomputed per candidate snapshot. No lock, no allocation.
/// </summary>
internal sealed class RandomStrategy : WeightedStrategy
{
    private readonly Random _random;
    private WeightTable? _table;

    /// <summary>Creates the strategy.</summary>
    /// <param name="random">The source of randomness; <see cref="Random.Shared"/> (thread-safe) when <see langword="null"/>. Tests pass a seeded one.</param>
    public RandomStrategy(Random? random = null)
    {
        _random = random ?? Random.Shared;
    }

    public override string Name => LoadStrategyNames.Random;

    protected override BackendState? Pick(ReadOnlySpan<BackendState> candidates, EffectiveWeights weights, long now)
    {
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
