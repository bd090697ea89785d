namespace Balancing.Strategies;

/// <summary>
/// The candidate with the fewest requests in flight relative to its effective weight (in-flight / weight, compared by
/// cross-multiplication). One pass over the candidates, no lock, no allocation.
/// </summary>
/// <remarks>
/// Ties are common (every idle backend has 0 in flight), and always taking the first tied backend would send every
/// request of a quiet pool to one backend. A tie is settled by weighted reservoir sampling instead: the k-th tied
/// candidate replaces the current choice with probability weight / (sum of the tied weights so far), which leaves each
/// tied backend chosen in proportion to its weight, so equal backends share evenly and weights hold even at low load
/// (NGINX settles the same ties by weighted round robin). Random numbers are only drawn when a tie happens: one from the
/// shared source, the following ones from a splitmix64 step on a local.
/// </remarks>
internal sealed class LeastConnectionsStrategy : WeightedStrategy
{
    private readonly Random _random;

    /// <summary>Creates the strategy.</summary>
    /// <param name="random">The source of randomness for ties; <see cref="Random.Shared"/> (thread-safe) when <see langword="null"/>. Tests pass a seeded one.</param>
    public LeastConnectionsStrategy(Random? random = null)
    {
        _random = random ?? Random.Shared;
    }

    public override string Name => LoadStrategyNames.LeastConnections;

    protected override BackendState? Pick(ReadOnlySpan<BackendState> candidates, EffectiveWeights weights, long now)
    {
        var best = -1;
        var bestInFlight = 0;
        long bestWeight = 0;
        long tiedWeight = 0;
        ulong seed = 0;
        for (var i = 0; i < candidates.Length; i++)
        {
            var weight = weights.Of(candidates[i], now);
            if (weight <= 0)
            {
                continue;
            }

            var inFlight = candidates[i].InFlight;
            var order = best < 0 ? -1 : Load.Compare(inFlight, weight, bestInFlight, bestWeight);
            if (order > 0)
            {
                continue;
            }

            if (order < 0)
            {
                tiedWeight = weight;
            }
            else
            {
                tiedWeight += weight;
                if (seed == 0)
                {
#pragma warning disable CA5394 // Balancing needs spread, not unpredictability.
                    seed = (ulong)_random.NextInt64() | 1;
#pragma warning restore CA5394
                }

                // Keep the current choice unless a draw in [0, tiedWeight) falls in this candidate's weight.
                if ((long)Math.BigMul(NextRandom(ref seed), (ulong)tiedWeight, out _) >= weight)
                {
                    continue;
                }
            }

            best = i;
            bestInFlight = inFlight;
            bestWeight = weight;
        }

        // Only when every candidate has weight 0, which a pool never offers: the first one rather than no answer.
        return candidates[Math.Max(best, 0)];
    }

    /// <summary>splitmix64: a full-period, well-mixed 64-bit sequence from a counter.</summary>
    private static ulong NextRandom(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        var z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
