namespace Balancing.Strategies;

/// <summary>Weighted random draws straight from a span, for the candidates of a retry (no precomputed table): O(n).</summary>
internal static class WeightedDraw
{
    /// <summary>Draws one candidate in proportion to its effective weight.</summary>
    public static BackendState Pick(ReadOnlySpan<BackendState> candidates, EffectiveWeights weights, long now, Random random)
        => candidates[Index(candidates, weights, now, random, skip: -1, out _)];

    /// <summary>
    /// Draws the index of one candidate in proportion to its effective weight, leaving out candidate <paramref name="skip"/>
    /// (-1 for none); uniformly when every weight is 0. Returns -1 only when nothing is left to draw from.
    /// </summary>
    public static int Index(ReadOnlySpan<BackendState> candidates, EffectiveWeights weights, long now, Random random, int skip, out long weight)
    {
        long total = 0;
        for (var i = 0; i < candidates.Length; i++)
        {
            if (i != skip)
            {
                total += weights.Of(candidates[i], now);
            }
        }

        weight = 0;
#pragma warning disable CA5394 // Balancing needs spread, not unpredictability.
        if (total <= 0)
        {
            var left = skip < 0 ? candidates.Length : candidates.Length - 1;
            if (left <= 0)
            {
                return -1;
            }

            var index = random.Next(left);
            return skip >= 0 && index >= skip ? index + 1 : index;
        }

        var point = random.NextInt64(total);
#pragma warning restore CA5394
        var last = -1;
        for (var i = 0; i < candidates.Length; i++)
        {
            if (i == skip)
            {
                continue;
            }

            weight = weights.Of(candidates[i], now);
            last = i;
            point -= weight;
            if (point < 0)
            {
                return i;
            }
        }

        // Only when a weight grew between the two passes.
        return last;
    }
}
