using System.Diagnostics.Metrics;
using Balancing.Diagnostics;
using Balancing.Pools;
using HdrHistogram;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Balancing.Statistics;

/// <summary>
/// Keeps the balancer's statistics: listens to the <c>Balancing</c> meter of its container, moves the one-second
/// buckets on a timer of the <see cref="TimeProvider"/>, judges the error-rate alerts on each move, and builds snapshots.
/// </summary>
/// <remarks>
/// Starts with the host (it is a hosted service) or on the first snapshot, whichever comes first. Recording runs on the
/// threads that finish requests, without a lock; the clock, the alerts and the snapshots share one lock.
/// </remarks>
internal sealed class StatisticsCollector : ILoadBalancerStatistics, IHostedService, IDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    private readonly IServiceProvider _services;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private Running? _running;
    private long _seconds;
    private HistogramBase? _scratch;
    private bool _disposed;

    public StatisticsCollector(IServiceProvider services, TimeProvider timeProvider, ILogger<StatisticsCollector> logger)
    {
        _services = services;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        EnsureStarted();
        return Task.CompletedTask;
    }

    // Statistics keep counting until the container is disposed: requests still finish while the host stops.
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public LoadBalancerStatistics GetSnapshot()
    {
        var running = EnsureStarted();
        lock (_lock)
        {
            CatchUp(running);
            running.Listener.Observe();
            var snapshot = StatisticsSnapshot.Build(running.Registry, running.Store, _scratch ??= LatencyWindow.CreateHistogram(), _timeProvider.GetUtcNow());
            var shared = _services.GetServices<ISharedStateStatus>().Select(static s => s.GetStatistics()).ToArray();
            return shared.Length == 0 ? snapshot : snapshot with { SharedState = shared };
        }
    }

    public void Dispose()
    {
        Running? running;
        lock (_lock)
        {
            _disposed = true;
            running = _running;
        }

        running?.Timer.Dispose();
        running?.Listener.Dispose();
    }

    private Running EnsureStarted()
    {
        if (Volatile.Read(ref _running) is { } running)
        {
            return running;
        }

        // Outside the lock: resolving the registry validates the configuration and may throw.
        var registry = _services.GetRequiredService<ServerPoolRegistry>();
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_running is null)
            {
                var store = new StatisticsStore(registry);
                var listener = new StatisticsListener(_services.GetService<IMeterFactory>(), store);
                var origin = _timeProvider.GetTimestamp();
                var timer = _timeProvider.CreateTimer(static state => ((StatisticsCollector)state!).OnTick(), this, Tick, Tick);
                Volatile.Write(ref _running, new Running(registry, store, listener, timer, origin));
            }

            return _running!;
        }
    }

    private void OnTick()
    {
        lock (_lock)
        {
            if (!_disposed && _running is { } running)
            {
                CatchUp(running);
            }
        }
    }

    /// <summary>Moves the buckets to the current second, however many ticks were late, then judges the alerts.</summary>
    private void CatchUp(Running running)
    {
        var now = _timeProvider.GetElapsedTime(running.Origin).Ticks / TimeSpan.TicksPerSecond;
        var behind = now - _seconds;
        if (behind <= 0)
        {
            return;
        }

        // After a pause longer than the longest window every bucket is stale: one round of the rings clears them all.
        var steps = Math.Min(behind, SlidingCounter.Seconds + LatencyWindow.SliceSeconds + 1);
        running.Store.Prune();
        foreach (var pool in running.Store.Pools)
        {
            for (var i = 0; i < steps; i++)
            {
                // Backends first: each adds its second to the pool's, which then ends its own.
                foreach (var backend in pool.Backends.Values)
                {
                    backend.Advance(pool.Totals);
                }

                pool.Totals.Advance();
            }
        }

        _seconds = now;
        EvaluateAlerts(running);
    }

    private void EvaluateAlerts(Running running)
    {
        var options = running.Registry.Options.Monitoring;
        var seconds = ErrorRateAlert.WindowSeconds(options);
        var now = _timeProvider.GetUtcNow();
        foreach (var pool in running.Store.Pools)
        {
            foreach (var (id, backend) in pool.Backends)
            {
                switch (ErrorRateAlert.Evaluate(backend, options, now, out var requests, out var errors))
                {
                    case AlertChange.Raised:
                        Log.BackendErrorRateHigh(_logger, id, pool.Name, errors, requests, seconds, ErrorRateAlert.Rate(errors, requests), options.ErrorRateThreshold);
                        break;
                    case AlertChange.Cleared:
                        Log.BackendErrorRateRecovered(_logger, id, pool.Name, options.ErrorRateThreshold, errors, requests, seconds);
                        break;
                }
            }

            switch (ErrorRateAlert.Evaluate(pool.Totals, options, now, out var poolRequests, out var poolErrors))
            {
                case AlertChange.Raised:
                    Log.PoolErrorRateHigh(_logger, pool.Name, poolErrors, poolRequests, seconds, ErrorRateAlert.Rate(poolErrors, poolRequests), options.ErrorRateThreshold);
                    break;
                case AlertChange.Cleared:
                    Log.PoolErrorRateRecovered(_logger, pool.Name, options.ErrorRateThreshold, poolErrors, poolRequests, seconds);
                    break;
            }
        }
    }

    private sealed record Running(ServerPoolRegistry Registry, StatisticsStore Store, StatisticsListener Listener, ITimer Timer, long Origin);
}
