using Balancing.Pools;
using HdrHistogram;

namespace Balancing.Statistics;

/// <summary>Builds a <see cref="LoadBalancerStatistics"/> from the configuration, the live backend state and the rolling figures.</summary>
internal static class StatisticsSnapshot
{
    public const int ShortWindowSeconds = 10;
    public const int LongWindowSeconds = SlidingCounter.Seconds;

    /// <param name="registry">The pools of the current configuration.</param>
    /// <param name="store">The rolling figures.</param>
    /// <param name="scratch">A histogram to merge latency slices into; the caller holds the clock's lock.</param>
    /// <param name="now">The snapshot's time.</param>
    public static LoadBalancerStatistics Build(ServerPoolRegistry registry, StatisticsStore store, HistogramBase scratch, DateTimeOffset now)
    {
        var monitoring = registry.Options.Monitoring;
        var pools = registry.Pools.OrderBy(static p => p.Name, StringComparer.OrdinalIgnoreCase)
            .Select(pool => BuildPool(pool, store.FindPool(pool.Name), scratch))
            .ToArray();

        return new LoadBalancerStatistics
        {
            GeneratedAt = now,
            ErrorRateThreshold = monitoring.ErrorRateThreshold,
            ErrorRateWindow = TimeSpan.FromSeconds(ErrorRateAlert.WindowSeconds(monitoring)),
            MinimumRequests = monitoring.MinimumRequests,
            Pools = pools,
        };
    }

    private static PoolStatistics BuildPool(IServerPool pool, PoolTraffic? traffic, HistogramBase scratch)
    {
        var totals = traffic?.Totals;
        var backends = pool.Backends;
        var built = new BackendStatistics[backends.Length];
        for (var i = 0; i < backends.Length; i++)
        {
            built[i] = BuildBackend(backends[i], traffic?.Backends.GetValueOrDefault(backends[i].Id), scratch);
        }

        return new PoolStatistics
        {
            Name = pool.Name,
            Strategy = pool.Strategy.Name,
            AvailableBackends = pool.AvailableBackends.Length,
            Last10Seconds = Window(totals, ShortWindowSeconds),
            LastMinute = Window(totals, LongWindowSeconds),
            Latency = Latency(totals, scratch),
            Retries = Counts(totals?.Retries),
            Ejections = Counts(totals?.Ejections),
            RateLimited = Counts(totals?.RateLimited),
            ErrorRateAlert = totals?.AlertSince is not null,
            AlertSince = totals?.AlertSince,
            Cache = traffic?.Cache.ToStatistics() ?? CacheStatistics.Empty,
            Backends = built,
        };
    }

    private static BackendStatistics BuildBackend(BackendState backend, TrafficStatistics? traffic, HistogramBase scratch)
    {
        var probe = backend.LastProbe is { } result && backend.LastProbeLatency is { } latency && backend.LastProbeAt is { } at
            ? new ProbeStatistics
            {
                Healthy = result.IsHealthy,
                Description = result.Description,
                Latency = latency,
                At = at,
                ConsecutivePasses = backend.ConsecutiveProbePasses,
                ConsecutiveFailures = backend.ConsecutiveProbeFailures,
            }
            : null;

        return new BackendStatistics
        {
            Id = backend.Id,
            Address = backend.Address.ToString(),
            Health = backend.Health,
            HealthChangedAt = backend.HealthChangedAt,
            IsAvailable = backend.IsAvailable,
            Weight = backend.Weight,
            InFlight = backend.InFlight,
            BreakerState = backend.BreakerState,
            EjectedUntil = backend.EjectedUntil,
            EjectionCount = backend.EjectionCount,
            TotalRequests = backend.TotalRequests,
            TotalFailures = backend.TotalFailures,
            LastProbe = probe,
            LatencyEstimate = backend.LatencyEstimate,
            Last10Seconds = Window(traffic, ShortWindowSeconds),
            LastMinute = Window(traffic, LongWindowSeconds),
            Latency = Latency(traffic, scratch),
            Ejections = Counts(traffic?.Ejections),
            ErrorRateAlert = traffic?.AlertSince is not null,
            AlertSince = traffic?.AlertSince,
        };
    }

    private static WindowStatistics Window(TrafficStatistics? traffic, int seconds)
    {
        var requests = traffic?.Requests.Sum(seconds) ?? 0;
        var errors = traffic?.Errors.Sum(seconds) ?? 0;
        return new WindowStatistics
        {
            Window = TimeSpan.FromSeconds(seconds),
            Requests = requests,
            Errors = errors,
            RequestsPerSecond = (double)requests / seconds,
            ErrorRate = ErrorRateAlert.Rate(errors, requests),
        };
    }

    private static LatencyStatistics Latency(TrafficStatistics? traffic, HistogramBase scratch)
    {
        var window = TimeSpan.FromSeconds(LatencyWindow.SliceCount * LatencyWindow.SliceSeconds);
        if (traffic is null)
        {
            return new LatencyStatistics { Window = window, Count = 0, P50 = null, P95 = null, P99 = null, Max = null };
        }

        traffic.Latency.CopyTo(scratch);
        var count = scratch.TotalCount;
        return new LatencyStatistics
        {
            Window = window,
            Count = count,
            P50 = count == 0 ? null : TimeSpan.FromMicroseconds(scratch.GetValueAtPercentile(50)),
            P95 = count == 0 ? null : TimeSpan.FromMicroseconds(scratch.GetValueAtPercentile(95)),
            P99 = count == 0 ? null : TimeSpan.FromMicroseconds(scratch.GetValueAtPercentile(99)),
            Max = count == 0 ? null : TimeSpan.FromMicroseconds(scratch.GetMaxValue()),
        };
    }

    private static RecentCounts Counts(SlidingCounter? counter) => new()
    {
        Last10Seconds = counter?.Sum(ShortWindowSeconds) ?? 0,
        LastMinute = counter?.Sum(LongWindowSeconds) ?? 0,
    };
}
