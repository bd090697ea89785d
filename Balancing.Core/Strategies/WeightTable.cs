using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Balancing.Strategies;

/// <summary>
/// What a weighted strategy precomputes for one candidate snapshot: the running sums of the candidates' effective weights,
/// so that a weighted draw is a binary search, and, for weighted round robin, the smooth sequence of one period.
/// Built off the common path (when the snapshot, a weight or a ramp step changes), published with a compare-and-swap and
/// never modified afterwards, except for the pick counter.
/// </summary>
internal sealed class WeightTable
{
    /// <summary>The longest smooth sequence precomputed (64 KiB of indices); longer periods use <see cref="Spread"/>.</summary>
    public const int MaxSequenceLength = 16_384;

    /// <summary>Building a sequence costs its length times the candidate count; above this the build would take milliseconds.</summary>
    private const long MaxBuildWork = 1L << 22;

    private readonly long[] _cumulative;

    /// <summary>Counts picks from this table; starts at -1 so that the first pick takes the sequence's first entry.</summary>
    private long _counter = -1;

    private WeightTable(BackendState[] backends, int version, long refreshAt, long[] cumulative, int[]? sequence)
    {
        Backends = backends;
        Version = version;
        RefreshAt = refreshAt;
        _cumulative = cumulative;
        Total = cumulative.Length == 0 ? 0 : cumulative[^1];
        Sequence = sequence;
    }

    /// <summary>Gets the candidates the table was built for.</summary>
    public BackendState[] Backends { get; }

    /// <summary>Gets the <see cref="EffectiveWeights.Version"/> the table was built at.</summary>
    public int Version { get; }

    /// <summary>Gets when (UTC ticks) a ramping weight next moves; <see cref="long.MaxValue"/> when none ramps.</summary>
    public long RefreshAt { get; }

    /// <summary>Gets the sum of the candidates' effective weights.</summary>
    public long Total { get; }

    /// <summary>Gets one period of the smooth weighted round-robin sequence (candidate indices), or <see langword="null"/>.</summary>
    public int[]? Sequence { get; }

    /// <summary>Gets the next value of the table's pick counter (0, 1, 2...).</summary>
    public ulong NextCount() => (ulong)Interlocked.Increment(ref _counter);

    /// <summary>Gets the effective weight of candidate <paramref name="index"/>.</summary>
    public long WeightAt(int index) => index == 0 ? _cumulative[0] : _cumulative[index] - _cumulative[index - 1];

    /// <summary>Gets the sum of the effective weights of the candidates before <paramref name="index"/>.</summary>
    public long WeightBefore(int index) => index == 0 ? 0 : _cumulative[index - 1];

    /// <summary>Finds the candidate whose share of [0, <see cref="Total"/>) holds <paramref name="point"/>.</summary>
    public int IndexOf(long point)
    {
        // The first running sum above the point; candidates of weight 0 own an empty share and are never found.
        var low = 0;
        var high = _cumulative.Length - 1;
        while (low < high)
        {
            var middle = (int)((uint)(low + high) >> 1);
            if (_cumulative[middle] > point)
            {
                high = middle;
            }
            else
            {
                low = middle + 1;
            }
        }

        return low;
    }

    /// <summary>
    /// Returns the table for <paramref name="candidates"/>, from <paramref name="cache"/> when it is still current, or
    /// builds and publishes a new one. Returns <see langword="null"/> when the candidates are not the pool's current
    /// snapshot (a retry leaves out the backends already tried): the caller then weighs them directly.
    /// </summary>
    public static WeightTable? For(ref WeightTable? cache, ReadOnlySpan<BackendState> candidates, EffectiveWeights weights, long now, bool withSequence)
    {
        var version = weights.Version;
        var table = Volatile.Read(ref cache);
        if (table is not null && table.Version == version && now < table.RefreshAt && table.Covers(candidates))
        {
            return table;
        }

        var current = weights.Candidates;
        BackendState[] backends;
        if (current is not null)
        {
            if (!IsSame(candidates, current))
            {
                return null;
            }

            backends = current;
        }
        else
        {
            // A strategy used without a pool (tests, benchmarks): whatever it is handed is its candidate set.
            backends = candidates.ToArray();
        }

        var built = Build(backends, weights, version, now, withSequence);
        var seen = Interlocked.CompareExchange(ref cache, built, table);

        // Threads that raced to rebuild all use the winner's table, so its counter (and an exact sequence) is shared.
        return ReferenceEquals(seen, table) || seen is null || seen.Version != version || !seen.Covers(candidates) ? built : seen;
    }

    /// <summary>
    /// Maps pick number <paramref name="count"/> to a point in [0, <paramref name="total"/>) by reversing its bits (the van
    /// der Corput sequence): any 2^k consecutive picks aligned on 2^k land on 2^k evenly spaced points, so each candidate
    /// gets its exact share of them to within one pick, and consecutive picks fall far apart, as in a smooth sequence.
    /// </summary>
    public static long Spread(ulong count, long total)
    {
        var reversed = count;
        reversed = ((reversed >> 1) & 0x5555555555555555UL) | ((reversed & 0x5555555555555555UL) << 1);
        reversed = ((reversed >> 2) & 0x3333333333333333UL) | ((reversed & 0x3333333333333333UL) << 2);
        reversed = ((reversed >> 4) & 0x0F0F0F0F0F0F0F0FUL) | ((reversed & 0x0F0F0F0F0F0F0F0FUL) << 4);
        reversed = BinaryPrimitives.ReverseEndianness(reversed);
        return (long)Math.BigMul(reversed, (ulong)total, out _);
    }

    /// <summary>Whether <paramref name="candidates"/> is <paramref name="array"/> itself (same memory), not a copy.</summary>
    private static bool IsSame(ReadOnlySpan<BackendState> candidates, BackendState[] array)
        => candidates.Length == array.Length
        && (array.Length == 0 || Unsafe.AreSame(ref MemoryMarshal.GetReference(candidates), ref MemoryMarshal.GetArrayDataReference(array)));

    private bool Covers(ReadOnlySpan<BackendState> candidates)
        => IsSame(candidates, Backends) || candidates.SequenceEqual(Backends);

    private static WeightTable Build(BackendState[] backends, EffectiveWeights weights, int version, long now, bool withSequence)
    {
        var cumulative = new long[backends.Length];
        long total = 0;
        long divisor = 0;
        var ramping = false;
        for (var i = 0; i < backends.Length; i++)
        {
            var weight = weights.Of(backends[i], now);
            ramping |= weight != (long)backends[i].Weight * EffectiveWeights.Full;
            total += weight;
            cumulative[i] = total;
            divisor = Gcd(divisor, weight);
        }

        var refreshAt = ramping ? weights.NextChange(now) : long.MaxValue;
        int[]? sequence = null;
        if (withSequence && divisor > 0)
        {
            var period = total / divisor;
            if (period <= MaxSequenceLength && period * backends.Length <= MaxBuildWork)
            {
                sequence = SmoothSequence(cumulative, divisor, (int)period);
            }
        }

        return new WeightTable(backends, version, refreshAt, cumulative, sequence);
    }

    /// <summary>
    /// NGINX's smooth weighted round robin, run for one period: at each step every candidate's current weight grows by its
    /// weight, the largest (the first one on a tie) is chosen and loses the total. Weights 5, 1, 1 give a a b a c a a.
    /// </summary>
    private static int[] SmoothSequence(long[] cumulative, long divisor, int period)
    {
        var count = cumulative.Length;
        var weights = new long[count];
        for (var i = 0; i < count; i++)
        {
            weights[i] = (i == 0 ? cumulative[0] : cumulative[i] - cumulative[i - 1]) / divisor;
        }

        var current = new long[count];
        var sequence = new int[period];
        for (var step = 0; step < period; step++)
        {
            var best = -1;
            for (var i = 0; i < count; i++)
            {
                if (weights[i] == 0)
                {
                    continue;
                }

                current[i] += weights[i];
                if (best < 0 || current[i] > current[best])
                {
                    best = i;
                }
            }

            current[best] -= period;
            sequence[step] = best;
        }

        return sequence;
    }

    private static long Gcd(long a, long b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }
}
