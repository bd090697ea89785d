using System.Collections.Concurrent;
using System.Collections.Immutable;
using Balancing.Diagnostics;
using Balancing.Pools;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Balancing.Health;

/// <summary>
/// Runs the active health checks of every pool whose <see cref="ActiveHealthCheckOptions.Enabled"/> is set, as a hosted
/// service. Follows configuration changes: a pool whose checks are turned on starts being probed, one whose checks are
/// turned off or that is removed stops (its backends go back to <see cref="BackendHealth.Unknown"/>), and one whose
/// check settings change restarts with them. Backends added to a probed pool are probed from the next round on.
/// </summary>
internal sealed class ActiveHealthChecker : IHostedService, IDisposable
{
    private readonly IServiceProvider _services;
    private readonly HealthProbeRegistry _probes;
    private readonly TimeProvider _timeProvider;
    private readonly Lock _lock = new();
    private readonly Lock _randomLock = new();
    private readonly Dictionary<string, PoolHealthCheck> _running = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<Task> _stopping = [];
    private readonly ConcurrentDictionary<string, long> _rounds = new(StringComparer.OrdinalIgnoreCase);
    private ServerPoolRegistry? _registry;
    private bool _started;

    public ActiveHealthChecker(IServiceProvider services, HealthProbeRegistry probes, TimeProvider timeProvider, ILogger<ActiveHealthChecker> logger)
    {
        _services = services;
        _probes = probes;
        _timeProvider = timeProvider;
        Logger = logger;
        Metrics = services.GetService<BalancingMetrics>();
    }

    /// <summary>Raised after each completed round of probes of a pool, once the round's health changes are applied.</summary>
    public event EventHandler<HealthCheckRound>? RoundCompleted;

    public ILogger Logger { get; }

    /// <summary>Gets the instruments probes record to, if any.</summary>
    public BalancingMetrics? Metrics { get; }

    /// <summary>Gets or sets the source of the jitter; tests set a seeded or scripted one.</summary>
    public Random Random { get; set; } = Random.Shared;

    /// <summary>Gets the names of the pools being probed now.</summary>
    public IReadOnlyCollection<string> ProbedPools
    {
        get
        {
            lock (_lock)
            {
                return [.. _running.Keys];
            }
        }
    }

    /// <summary>Gets the number of rounds completed for <paramref name="pool"/> since the checker started.</summary>
    public long CompletedRounds(string pool) => _rounds.GetValueOrDefault(pool);

    /// <summary>Completes when round <paramref name="round"/> (counted from 1) of <paramref name="pool"/> has completed.</summary>
    public async Task<HealthCheckRound?> WaitForRoundAsync(string pool, long round, CancellationToken cancellationToken = default)
    {
        var completed = new TaskCompletionSource<HealthCheckRound?>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnRound(object? sender, HealthCheckRound e)
        {
            if (string.Equals(e.Pool, pool, StringComparison.OrdinalIgnoreCase) && e.Number >= round)
            {
                completed.TrySetResult(e);
            }
        }

        RoundCompleted += OnRound;
        try
        {
            if (CompletedRounds(pool) >= round)
            {
                return null;
            }

            return await completed.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            RoundCompleted -= OnRound;
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Resolving the registry validates the configuration: a bad one fails start-up here, with every error listed.
        var registry = _services.GetRequiredService<ServerPoolRegistry>();
        lock (_lock)
        {
            if (_started)
            {
                return Task.CompletedTask;
            }

            _registry = registry;
            _started = true;
            registry.ConfigurationChanged += OnConfigurationChanged;
            try
            {
                // At start-up a probe that cannot be built fails start-up, like any other configuration error.
                Reconcile(throwOnError: true);
            }
            catch
            {
                StopAll();
                throw;
            }
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Task[] pending;
        lock (_lock)
        {
            StopAll();
            pending = [.. _stopping];
        }

        await Task.WhenAll(pending).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            StopAll();
        }
    }

    /// <summary>A delay in [0, 2 × <paramref name="jitter"/> × <paramref name="interval"/>): ±jitter around the middle of that window.</summary>
    public TimeSpan NextJitter(TimeSpan interval, double jitter)
    {
        if (jitter <= 0)
        {
            return TimeSpan.Zero;
        }

        double sample;
        lock (_randomLock)
        {
            // Jitter spreads load; it needs no unpredictability.
#pragma warning disable CA5394
            sample = Random.NextDouble();
#pragma warning restore CA5394
        }

        return JitterDelay(interval, jitter, sample);
    }

    /// <summary>Maps a uniform <paramref name="sample"/> in [0, 1) to a delay in [0, 2 × jitter × interval).</summary>
    public static TimeSpan JitterDelay(TimeSpan interval, double jitter, double sample)
        => TimeSpan.FromTicks((long)(2 * jitter * interval.Ticks * Math.Clamp(sample, 0, 1)));

    internal void OnRoundCompleted(string pool, ImmutableArray<BackendState> backends)
    {
        var number = _rounds.AddOrUpdate(pool, 1, static (_, n) => n + 1);
        RoundCompleted?.Invoke(this, new HealthCheckRound(pool, number, backends));
    }

    internal void ChangeHealth(ServerPool pool, BackendState backend, BackendHealth health, string reason, DateTimeOffset now)
    {
        if (backend.SetHealth(health, reason, now))
        {
            Log.BackendHealthChanged(Logger, backend.Id, pool.Name, health, reason);
        }
    }

    private void OnConfigurationChanged(object? sender, ConfigurationChangeResult result)
    {
        if (!result.Applied)
        {
            return;
        }

        lock (_lock)
        {
            if (_started)
            {
                Reconcile(throwOnError: false);
            }
        }
    }

    /// <summary>Brings the running loops in line with the pools as configured now. Called under the lock.</summary>
    private void Reconcile(bool throwOnError)
    {
        var pools = _registry!.Pools.OfType<ServerPool>().ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, check) in _running.ToList())
        {
            if (!pools.TryGetValue(name, out var pool) || !ReferenceEquals(pool, check.Pool))
            {
                Stop(check);
                _running.Remove(name);
            }
            else if (!pool.Options.HealthCheck.Active.Enabled)
            {
                Stop(check);
                _running.Remove(name);

                // Nothing will bring an unhealthy backend back once probing stops, so the verdicts go with it.
                var now = _timeProvider.GetUtcNow();
                foreach (var backend in pool.Backends)
                {
                    backend.ClearProbes();
                    ChangeHealth(pool, backend, BackendHealth.Unknown, "active health checks were turned off", now);
                }
            }
            else if (!check.Matches(pool.Options))
            {
                // Restarted below with the new settings; the backends keep their counters and health.
                Stop(check);
                _running.Remove(name);
            }
        }

        foreach (var (name, pool) in pools)
        {
            var active = pool.Options.HealthCheck.Active;
            if (!active.Enabled || _running.ContainsKey(name))
            {
                continue;
            }

            IHealthProbe probe;
            try
            {
                probe = _probes.Create(active.Probe, pool.Options, _services);
            }
            catch (Exception ex) when (!throwOnError)
            {
                Log.HealthProbeCreationFailed(Logger, active.Probe, name, ex);
                continue;
            }

            var check = new PoolHealthCheck(this, pool, probe, _timeProvider);
            _running[name] = check;
            check.Start();
            Log.ActiveHealthChecksStarted(Logger, name, active.Probe, active.Interval, active.Timeout, active.HealthyThreshold, active.UnhealthyThreshold);
        }
    }

    private void StopAll()
    {
        if (!_started)
        {
            return;
        }

        _started = false;
        if (_registry is not null)
        {
            _registry.ConfigurationChanged -= OnConfigurationChanged;
        }

        foreach (var check in _running.Values)
        {
            Stop(check);
        }

        _running.Clear();
    }

    private async Task DisposeWhenStoppedAsync(PoolHealthCheck check)
    {
        try
        {
            await check.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // A probe whose Dispose throws must not break the shutdown of the others.
            Log.HealthProbeDisposeFailed(Logger, check.Pool.Name, ex);
        }
    }

    private void Stop(PoolHealthCheck check)
    {
        check.Stop();
        _stopping.RemoveAll(static t => t.IsCompleted);
        _stopping.Add(DisposeWhenStoppedAsync(check));
        Log.ActiveHealthChecksStopped(Logger, check.Pool.Name);
    }
}
