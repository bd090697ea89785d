namespace Balancing.Strategies;

/// <summary>
/// Smooth weighted round robin, as NGINX does it: weights 5, 1, 1 give a a b a c a a, over and over. NGINX runs the
/// algorithm under a lock on every pick; here one period of its sequence is precomputed for the current candidates and
/// weights, and a pick is one interlocked increment and an array read: no lock, no allocation.
/// </summary>
/// <remarks>
/// <para>
/// The sequence is rebuilt (off the common path, published by compare-and-swap) when the pool's snapshot, a weight or a
/// slow-start step changes, and starts over from its beginning. Its period is the sum of the weights divided by their
/// greatest common divisor; past <see cref="WeightTable.MaxSequenceLength"/> entries (huge weights or many backends) the
/// strategy switches to a bit-reversed counter over the running sums of the weights (<see cref="WeightTable.Spread"/>):
/// exact to one pick in every aligned block of 2^k picks, still spread out, at O(log n) per pick.
/// </para>
/// <para>
/// A retry hands the strategy the candidates minus those already tried, in a rented array; those are weighed directly
/// (O(n)) with the same bit-reversed counter, which keeps the choice in proportion to weight.
/// </para>
/// </remarks>
internal sealed class WeightedRoundRobinStrategy : WeightedStrategy
{
    private WeightTable? _table;
    private long _subsetCounter = -1;

    public override string Name => LoadStrategyNames.WeightedRoundRobin;

    protected override BackendState? Pick(ReadOnlySpan<BackendState> candidates, EffectiveWeights weights, long now)
    {
        var table = WeightTable.For(ref _table, candidates, weights, now, withSequence: true);
        if (table is null)
        {
            return PickFromSubset(candidates, weights, now);
        }

        var count = table.NextCount();
        if (table.Sequence is { } sequence)
        {
            return candidates[sequence[(int)(count % (ulong)sequence.Length)]];
        }

        return table.Total > 0
            ? candidates[table.IndexOf(WeightTable.Spread(count, table.Total))]
            : candidates[(int)(count % (ulong)candidates.Length)];
    }

    private BackendState PickFromSubset(ReadOnlySpan<BackendState> candidates, EffectiveWeights weights, long now)
    {
        var count = (ulong)Interlocked.Increment(ref _subsetCounter);
        long total = 0;
        foreach (var candidate in candidates)
        {
            total += weights.Of(candidate, now);
        }

        if (total <= 0)
        {
            return candidates[(int)(count % (ulong)candidates.Length)];
        }

        var point = WeightTable.Spread(count, total);
        foreach (var candidate in candidates)
        {
            point -= weights.Of(candidate, now);
            if (point < 0)
            {
                return candidate;
            }
        }

        // Only when a weight grew between the two passes.
        return candidates[^1];
    }
}
