using Balancing.Configuration;

namespace Balancing.Strategies;

/// <summary>
/// A Maglev lookup table (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load Balancer", NSDI 2016):
/// <c>Size</c> slots, each naming a backend, filled so that each backend holds a share of the slots proportional to its
/// weight, and so that removing or adding one backend reassigns few slots beyond its own. Immutable once built.
/// </summary>
internal sealed class MaglevTable
{
    // Seeds of the two hashes that give each backend its permutation: where it starts, and its stride.
    private const long OffsetSeed = 0x4D61676C6576;
    private const long SkipSeed = 0x536B6970;

    private MaglevTable(BackendState[] backends, int[] weights, int[] lookup, int requestedSize, Dictionary<BackendState, int> index)
    {
        Backends = backends;
        Weights = weights;
        Lookup = lookup;
        RequestedSize = requestedSize;
        Index = index;
        long total = 0;
        foreach (var weight in weights)
        {
            total += weight;
        }

        TotalWeight = total;
    }

    /// <summary>Gets the backends the table was built for, in their order; <see cref="Lookup"/> holds indexes into it.</summary>
    public BackendState[] Backends { get; }

    /// <summary>Gets each backend's weight when the table was built.</summary>
    public int[] Weights { get; }

    /// <summary>Gets the sum of <see cref="Weights"/>.</summary>
    public long TotalWeight { get; }

    /// <summary>Gets the slots: each holds an index into <see cref="Backends"/>.</summary>
    public int[] Lookup { get; }

    /// <summary>Gets the number of slots: a prime.</summary>
    public int Size => Lookup.Length;

    /// <summary>Gets the <c>TableSize</c> setting the table was built for (the size is larger for very large pools).</summary>
    public int RequestedSize { get; }

    /// <summary>Gets each backend's index in <see cref="Backends"/>.</summary>
    public Dictionary<BackendState, int> Index { get; }

    /// <summary>Builds the table for <paramref name="backends"/>.</summary>
    /// <param name="backends">The backends; the table keeps this array. At least one.</param>
    /// <param name="requestedSize">The <c>TableSize</c> setting, a prime.</param>
    public static MaglevTable Build(BackendState[] backends, int requestedSize)
    {
        var count = backends.Length;
        var size = SizeFor(requestedSize, count);
        var weights = new int[count];
        var maxWeight = 0;
        for (var i = 0; i < count; i++)
        {
            weights[i] = Math.Max(0, backends[i].Weight);
            maxWeight = Math.Max(maxWeight, weights[i]);
        }

        // Only drained backends (a race with a weight change): share the table evenly rather than leave it empty.
        var shares = weights;
        if (maxWeight == 0)
        {
            shares = new int[count];
            Array.Fill(shares, 1);
        }

        maxWeight = Math.Max(maxWeight, 1);

        var offset = new long[count];
        var skip = new long[count];
        for (var i = 0; i < count; i++)
        {
            offset[i] = (long)(KeyHash.OfName(backends[i].Id, OffsetSeed) % (ulong)size);
            skip[i] = (long)(KeyHash.OfName(backends[i].Id, SkipSeed) % (ulong)(size - 1)) + 1;
        }

        var lookup = new int[size];
        Array.Fill(lookup, -1);

        // Each backend walks its own permutation of the slots, offset, offset + skip, offset + 2 skip, ... (mod a prime, so
        // every slot comes up once), and takes the next free slot on each of its turns. Weighted Maglev: per round the
        // heaviest backend gets one turn and the others a fraction in proportion, carried over as credit.
        var position = (long[])offset.Clone();
        var credit = new double[count];
        var filled = 0;

        // Turns go in order of name, not of configuration, so that balancers listing the same backends in another
        // order (or a pool whose backends were re-listed) build the very same table.
        var order = Enumerable.Range(0, count)
            .OrderBy(i => backends[i].Id.ToUpperInvariant(), StringComparer.Ordinal)
            .ToArray();
        while (true)
        {
            foreach (var i in order)
            {
                credit[i] += (double)shares[i] / maxWeight;
                while (credit[i] >= 1)
                {
                    credit[i] -= 1;
                    var slot = position[i];
                    while (lookup[slot] >= 0)
                    {
                        slot = (slot + skip[i]) % size;
                    }

                    lookup[slot] = i;
                    position[i] = (slot + skip[i]) % size;
                    if (++filled == size)
                    {
                        return new MaglevTable(backends, weights, lookup, requestedSize, IndexOf(backends));
                    }
                }
            }
        }
    }

    /// <summary>The number of slots: the smallest prime at or above both the setting and 100 per backend.</summary>
    public static int SizeFor(int requestedSize, int backendCount)
    {
        var size = Math.Max(Math.Max(requestedSize, 3), 100 * backendCount);
        while (!LoadAwareOptionsValidator.IsPrime(size))
        {
            size++;
        }

        return size;
    }

    /// <summary>The same table over another array holding the same backends (the pool publishes a new array on every change).</summary>
    public MaglevTable WithBackends(BackendState[] backends) => new(backends, Weights, Lookup, RequestedSize, Index);

    /// <summary>Whether <paramref name="candidates"/> is the very array the table was built for (not a copy): one comparison.</summary>
    public bool IsExactly(ReadOnlySpan<BackendState> candidates)
        => candidates.Length == Backends.Length
        && System.Runtime.CompilerServices.Unsafe.AreSame(
            ref System.Runtime.InteropServices.MemoryMarshal.GetReference(candidates),
            ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(Backends));

    /// <summary>Whether <paramref name="candidates"/> holds the table's backends, in its order, at the weights it was built with.</summary>
    public bool HasSameBackends(ReadOnlySpan<BackendState> candidates)
    {
        if (candidates.Length != Backends.Length)
        {
            return false;
        }

        for (var i = 0; i < candidates.Length; i++)
        {
            if (!ReferenceEquals(candidates[i], Backends[i]) || Math.Max(0, candidates[i].Weight) != Weights[i])
            {
                return false;
            }
        }

        return true;
    }

    private static Dictionary<BackendState, int> IndexOf(BackendState[] backends)
    {
        var index = new Dictionary<BackendState, int>(backends.Length, ReferenceEqualityComparer.Instance);
        for (var i = 0; i < backends.Length; i++)
        {
            index.TryAdd(backends[i], i);
        }

        return index;
    }
}
