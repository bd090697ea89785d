namespace Balancing.Strategies;

/// <summary>
/// The power of two random choices: two different candidates drawn at random in proportion to their effective weights;
/// the one with fewer requests in flight relative to its weight wins, and on a tie the first drawn does. A constant cost
/// per pick (two draws, two binary searches over precomputed running sums), no lock, no allocation.
/// </summary>
/// <remarks>
/// Because the first draw is weighted and wins ties, backends with no load share requests exactly in proportion to their
/// weights; under load the comparison steers requests away from the busier of the two, which keeps any backend from
/// piling up requests while costing far less than scanning them all (Mitzenmacher, 2001).
/// </remarks>
internal sealed class PowerOfTwoChoicesStrategy : WeightedStrategy
{
    private readonly Random _random;
    private WeightTable? _table;

    /// <summary>Creates the strategy.</summary>
    /// <param name="random">The source of randomness; <see cref="Random.Shared"/> (thread-safe) when <see langword="null"/>. Tests pass a seeded one.</param>
    public PowerOfTwoChoicesStrategy(Random? random = null)
    {
        _random = random ?? Random.Shared;
    }

    public override string Name => LoadStrategyNames.PowerOfTwoChoices;

    protected override BackendState? Pick(ReadOnlySpan<BackendState> candidates, EffectiveWeights weights, long now)
    {
        var table = WeightTable.For(ref _table, candidates, weights, now, withSequence: false);
        int first, second;
        long firstWeight, secondWeight;
        if (table is not null && table.Total > 0)
        {
#pragma warning disable CA5394 // Balancing needs spread, not unpredictability.
            first = table.IndexOf(_random.NextInt64(table.Total));
            firstWeight = table.WeightAt(first);
            var rest = table.Total - firstWeight;
            if (rest <= 0)
            {
                // Every other candidate has weight 0.
                return candidates[first];
            }

            // A point in the weights of the others: skip over the first one's share.
            var point = _random.NextInt64(rest);
#pragma warning restore CA5394
            if (point >= table.WeightBefore(first))
            {
                point += firstWeight;
            }

            second = table.IndexOf(point);
            secondWeight = table.WeightAt(second);
        }
        else
        {
            first = WeightedDraw.Index(candidates, weights, now, _random, skip: -1, out firstWeight);
            second = WeightedDraw.Index(candidates, weights, now, _random, skip: first, out secondWeight);
        }

        return Load.IsLess(candidates[second].InFlight, secondWeight, candidates[first].InFlight, firstWeight)
            ? candidates[second]
            : candidates[first];
    }
}
