using System.Collections.Concurrent;

namespace Balancing.Statistics;

/// <summary>
/// The rolling figures of every pool and backend, fed by the meter listener. Recording looks up two dictionaries and
/// increments counters: no lock and no allocation once a pool or backend has been seen.
/// </summary>
/// <remarks>
/// Figures are kept only for pools and backends of the current configuration (a measurement for any other name is
/// dropped, so a stray tag value cannot make the store grow), and are dropped when they leave it.
/// </remarks>
internal sealed class StatisticsStore
{
    private readonly ConcurrentDictionary<string, PoolTraffic> _pools = new(StringComparer.OrdinalIgnoreCase);
    private readonly IServerPoolRegistry _registry;

    public StatisticsStore(IServerPoolRegistry registry)
    {
        _registry = registry;
    }

    public void RecordRequest(string pool, string? backend, double seconds, bool error)
    {
        var traffic = FindOrAddPool(pool);
        if (traffic is null)
        {
            return;
        }

        // A request served by a backend is recorded there only; the clock rolls backends up into their pool each second.
        var served = backend is not null && backend != BalancingInstruments.NoBackend ? traffic.FindOrAddBackend(backend) : null;
        (served ?? traffic.Totals).RecordRequest(seconds, error);
    }

    public void RecordRetries(string pool, long count) => FindOrAddPool(pool)?.Totals.Retries.Add(count);

    public void RecordRateLimited(string pool, long count) => FindOrAddPool(pool)?.Totals.RateLimited.Add(count);

    public void RecordEjections(string pool, string? backend, long count)
    {
        var traffic = FindOrAddPool(pool);
        if (traffic is null)
        {
            return;
        }

        traffic.Totals.Ejections.Add(count);
        if (backend is not null && backend != BalancingInstruments.NoBackend)
        {
            traffic.FindOrAddBackend(backend)?.Ejections.Add(count);
        }
    }

    /// <summary>Takes an observed running total of the pool's cache results.</summary>
    public void RecordCacheTotal(string pool, string result, long total) => FindOrAddPool(pool)?.Cache.Set(result, total);

    /// <summary>Finds the figures of <paramref name="pool"/>, or <see langword="null"/> if nothing was recorded for it.</summary>
    public PoolTraffic? FindPool(string pool) => _pools.GetValueOrDefault(pool);

    /// <summary>Every pool with figures, for the clock.</summary>
    public ICollection<PoolTraffic> Pools => _pools.Values;

    /// <summary>Drops the figures of pools and backends that left the configuration.</summary>
    public void Prune()
    {
        foreach (var (name, traffic) in _pools)
        {
            if (!_registry.TryGetPool(name, out var pool))
            {
                _pools.TryRemove(name, out _);
                continue;
            }

            foreach (var backend in traffic.Backends.Keys)
            {
                if (pool.FindBackend(backend) is null)
                {
                    traffic.Backends.TryRemove(backend, out _);
                }
            }
        }
    }

    private PoolTraffic? FindOrAddPool(string name)
    {
        if (_pools.TryGetValue(name, out var traffic))
        {
            return traffic;
        }

        if (!_registry.TryGetPool(name, out var pool))
        {
            return null;
        }

        return _pools.GetOrAdd(pool.Name, static (name, registry) => new PoolTraffic(name, registry), _registry);
    }
}

/// <summary>The figures of one pool and of its backends.</summary>
internal sealed class PoolTraffic
{
    private readonly IServerPoolRegistry _registry;

    public PoolTraffic(string name, IServerPoolRegistry registry)
    {
        Name = name;
        _registry = registry;
    }

    public string Name { get; }

    public TrafficStatistics Totals { get; } = new();

    public CacheCounts Cache { get; } = new();

    public ConcurrentDictionary<string, TrafficStatistics> Backends { get; } = new(StringComparer.OrdinalIgnoreCase);

    public TrafficStatistics? FindOrAddBackend(string id)
    {
        if (Backends.TryGetValue(id, out var traffic))
        {
            return traffic;
        }

        if (!_registry.TryGetPool(Name, out var pool) || pool.FindBackend(id) is not { } backend)
        {
            return null;
        }

        return Backends.GetOrAdd(backend.Id, static _ => new TrafficStatistics());
    }
}
