using System.Buffers;
using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Balancing.Pools;

namespace Balancing.Strategies;

/// <summary>
/// Consistent hashing over a Maglev lookup table: the request's key (or, without one, the client's address) is hashed
/// to a slot, and the slot names the backend. The table is built once per set of backends and published whole; a pick
/// reads it without a lock and allocates nothing. With <c>BoundedLoad</c> ε above 0, a backend already serving more than
/// <c>ceil((1 + ε) × (in flight + 1) × weight / total weight)</c> requests is passed over for the next slot's backend.
/// </summary>
/// <remarks>
/// When the pool's available backends change (a health change, a reload), the first pick after the change rebuilds the
/// table (a reload rebuilds it on the applying thread instead). While one thread builds, others keep using the previous
/// table, walking past backends that are gone. On a retry the candidates are the available backends minus those tried:
/// the key's slot is the start of a walk to the first candidate, so a retry goes where the key would go next.
/// </remarks>
internal sealed class ConsistentHashStrategy : ILoadStrategy, IPoolAwareStrategy
{
    private static readonly ConsistentHashOptions Defaults = new();

    private volatile ServerPool? _pool;
    private volatile MaglevTable? _table;
    private int _building;

    public string Name => LoadStrategyNames.ConsistentHash;

    /// <summary>Gets the current table, for tests.</summary>
    internal MaglevTable? Table => _table;

    public void PoolUpdated(ServerPool pool)
    {
        _pool = pool;
        var available = ImmutableCollectionsMarshal.AsArray(pool.AvailableBackends);
        if (available is { Length: > 0 })
        {
            Refresh(available, pool.Options.ConsistentHash.TableSize);
        }
    }

    public BackendState? Pick(ReadOnlySpan<BackendState> candidates, in BalancingContext context)
    {
        if (candidates.Length < 2)
        {
            return candidates.IsEmpty ? null : candidates[0];
        }

        ulong hash;
        if (context.Key is { } key)
        {
            hash = KeyHash.Of(key);
        }
        else if (context.ClientAddress is { } address)
        {
            hash = KeyHash.Of(address);
        }
        else
        {
            // Nothing to be sticky about: spread evenly.
            return candidates[Random.Shared.Next(candidates.Length)];
        }

        var options = _pool?.Options.ConsistentHash ?? Defaults;
        var table = TableFor(candidates, options.TableSize, out var isFull);
        if (table is null)
        {
            return candidates[(int)(hash % (ulong)candidates.Length)];
        }

        return isFull
            ? PickFromAll(table, hash, options.BoundedLoad)
            : PickFromSome(table, candidates, hash, options.BoundedLoad);
    }

    /// <summary>The candidates are exactly the table's backends: the key's slot, unless that backend is over its bound.</summary>
    private static BackendState PickFromAll(MaglevTable table, ulong hash, double boundedLoad)
    {
        var lookup = table.Lookup;
        var backends = table.Backends;
        var slot = (int)(hash % (ulong)lookup.Length);
        var chosen = backends[lookup[slot]];

        // Idle is always within the bound (it is at least 1), so the usual case never sums the pool's load.
        if (boundedLoad <= 0 || chosen.InFlight == 0 || table.TotalWeight == 0)
        {
            return chosen;
        }

        long inFlight = 0;
        foreach (var backend in backends)
        {
            inFlight += backend.InFlight;
        }

        var perWeight = (1 + boundedLoad) * (inFlight + 1) / table.TotalWeight;
        var weights = table.Weights;
        for (var step = 0; step < lookup.Length; step++)
        {
            var index = lookup[slot];
            if (backends[index].InFlight < Math.Ceiling(perWeight * weights[index]))
            {
                return backends[index];
            }

            slot = slot + 1 == lookup.Length ? 0 : slot + 1;
        }

        // Everyone over the bound can only be a race with other picks; the key's own backend is the best of the bad.
        return chosen;
    }

    /// <summary>
    /// The candidates are some of the table's backends (a retry leaves out those tried): walk from the key's slot to the
    /// first slot whose backend is a candidate (and within the bound, when one is set).
    /// </summary>
    private static BackendState PickFromSome(MaglevTable table, ReadOnlySpan<BackendState> candidates, ulong hash, double boundedLoad)
    {
        var backends = table.Backends;
        var words = (backends.Length + 63) >> 6;
        ulong[]? rented = null;
        var member = words <= 32 ? stackalloc ulong[32] : (rented = ArrayPool<ulong>.Shared.Rent(words));
        member = member[..words];
        member.Clear();
        try
        {
            var found = 0;
            long inFlight = 0;
            long weight = 0;
            foreach (var candidate in candidates)
            {
                if (table.Index.TryGetValue(candidate, out var i))
                {
                    member[i >> 6] |= 1UL << (i & 63);
                    found++;
                    inFlight += candidate.InFlight;
                    weight += table.Weights[i];
                }
            }

            if (found == 0)
            {
                // The table predates every candidate (it is being rebuilt): still deterministic per key.
                return candidates[(int)(hash % (ulong)candidates.Length)];
            }

            var lookup = table.Lookup;
            var bounded = boundedLoad > 0 && weight > 0;
            var perWeight = bounded ? (1 + boundedLoad) * (inFlight + 1) / weight : 0;
            var slot = (int)(hash % (ulong)lookup.Length);
            BackendState? first = null;
            for (var step = 0; step < lookup.Length; step++)
            {
                var index = lookup[slot];
                if ((member[index >> 6] & (1UL << (index & 63))) != 0)
                {
                    var backend = backends[index];
                    if (!bounded || backend.InFlight < Math.Ceiling(perWeight * table.Weights[index]))
                    {
                        return backend;
                    }

                    first ??= backend;
                }

                slot = slot + 1 == lookup.Length ? 0 : slot + 1;
            }

            return first ?? candidates[(int)(hash % (ulong)candidates.Length)];
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<ulong>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The table to pick from, rebuilt first when the backends changed; <paramref name="isFull"/> when it holds exactly the candidates.</summary>
    private MaglevTable? TableFor(ReadOnlySpan<BackendState> candidates, int tableSize, out bool isFull)
    {
        var table = _table;
        if (table is not null && table.RequestedSize == tableSize && table.IsExactly(candidates))
        {
            isFull = true;
            return table;
        }

        var pool = _pool;
        if (pool is not null)
        {
            // The table follows the pool's available backends; the candidates are those (a new array after a change) or a
            // retry's subset of them.
            var available = ImmutableCollectionsMarshal.AsArray(pool.AvailableBackends);
            if (available is { Length: > 0 } && (table is null || table.RequestedSize != tableSize || !ReferenceEquals(table.Backends, available)))
            {
                table = Refresh(available, tableSize);
            }

            isFull = table is not null && table.IsExactly(candidates);
            return table;
        }

        // Not attached to a pool (called directly): the table follows the candidates themselves, compared by content.
        if (table is null || table.RequestedSize != tableSize || !table.HasSameBackends(candidates))
        {
            table = Refresh(candidates.ToArray(), tableSize);
        }

        isFull = table is not null && table.HasSameBackends(candidates);
        return table;
    }

    /// <summary>Publishes a table for <paramref name="backends"/>; returns the previous one while another thread is building.</summary>
    private MaglevTable? Refresh(BackendState[] backends, int tableSize)
    {
        var current = _table;
        if (current is not null && current.RequestedSize == tableSize && current.HasSameBackends(backends))
        {
            // Same backends and weights in a new array (the pool publishes one on every health event): keep the slots.
            var moved = current.WithBackends(backends);
            return Interlocked.CompareExchange(ref _table, moved, current) == current ? moved : _table;
        }

        if (Interlocked.CompareExchange(ref _building, 1, 0) != 0)
        {
            return current;
        }

        try
        {
            var built = MaglevTable.Build(backends, tableSize);
            _table = built;
            return built;
        }
        finally
        {
            Volatile.Write(ref _building, 0);
        }
    }
}
