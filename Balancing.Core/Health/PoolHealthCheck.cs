using System.Collections.Immutable;
using System.Globalization;
using Balancing.Diagnostics;
using Balancing.Pools;

namespace Balancing.Health;

/// <summary>
/// The probing loop of one pool. Every round, each backend of the pool (as it is at the start of the round) is probed
/// concurrently at its own jittered moment, each probe bounded by the timeout; results go to the backend's
/// <see cref="BackendState"/>, and a run of passes or failures that reaches its threshold changes the backend's health.
/// A round never starts before the previous one ended.
/// </summary>
internal sealed class PoolHealthCheck : IAsyncDisposable
{
    private readonly ActiveHealthChecker _checker;
    private readonly TimeProvider _timeProvider;
    private readonly PoolOptions _poolOptions;
    private readonly ActiveHealthCheckOptions _options;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly string _timedOut;
    private bool _stopped;

    public PoolHealthCheck(ActiveHealthChecker checker, ServerPool pool, IHealthProbe probe, TimeProvider timeProvider)
    {
        _checker = checker;
        _timeProvider = timeProvider;
        Pool = pool;
        Probe = probe;
        _poolOptions = pool.Options;
        _options = _poolOptions.HealthCheck.Active;
        _timedOut = string.Create(CultureInfo.InvariantCulture, $"Timed out after {_options.Timeout}");
    }

    public ServerPool Pool { get; }

    public IHealthProbe Probe { get; }

    /// <summary>Gets the settings this loop runs with.</summary>
    public ActiveHealthCheckOptions Options => _options;

    /// <summary>Gets a task that completes when the loop has ended.</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    public void Start()
    {
        // The schedule is kept on the monotonic timestamp, so a wall-clock jump neither stalls nor floods the probes.
        // It is taken here rather than on the loop's thread, so round 1 is due from the moment the checks start.
        var origin = _timeProvider.GetTimestamp();
        Completion = Task.Run(() => RunAsync(origin, _stop.Token));
    }

    /// <summary>
    /// Ends the loop. No probe result is recorded after this returns, so the caller may reset the backends safely.
    /// </summary>
    public void Stop()
    {
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
        }

        _stop.Cancel();
    }

    /// <summary>
    /// Tells whether <paramref name="options"/> would run the same checks (same probe and settings, same HTTP version);
    /// a change of backends alone does not matter, the next round sees it.
    /// </summary>
    public bool Matches(PoolOptions options)
    {
        var active = options.HealthCheck.Active;
        return active.Enabled == _options.Enabled
            && string.Equals(active.Probe, _options.Probe, StringComparison.OrdinalIgnoreCase)
            && string.Equals(active.Path, _options.Path, StringComparison.Ordinal)
            && active.Interval == _options.Interval
            && active.Timeout == _options.Timeout
            && active.HealthyThreshold == _options.HealthyThreshold
            && active.UnhealthyThreshold == _options.UnhealthyThreshold
            && string.Equals(active.ExpectedStatusCodes, _options.ExpectedStatusCodes, StringComparison.Ordinal)
            && active.Jitter.Equals(_options.Jitter)
            && string.Equals(options.HttpVersion, _poolOptions.HttpVersion, StringComparison.Ordinal)
            && options.VersionPolicy == _poolOptions.VersionPolicy;
    }

    /// <summary>Waits for the loop to end (call <see cref="Stop"/> first), then disposes what it owns, the probe included.</summary>
    public async ValueTask DisposeAsync()
    {
        await Completion.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
        switch (Probe)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }

    private async Task RunAsync(long origin, CancellationToken cancellationToken)
    {
        var roundStart = TimeSpan.Zero;
        try
        {
            while (true)
            {
                var backends = Pool.Backends;
                try
                {
                    var probes = new Task[backends.Length];
                    for (var i = 0; i < backends.Length; i++)
                    {
                        var at = roundStart + _checker.NextJitter(_options.Interval, _options.Jitter);
                        probes[i] = ProbeAsync(backends[i], origin, at, cancellationToken);
                    }

                    await Task.WhenAll(probes).ConfigureAwait(false);
                    cancellationToken.ThrowIfCancellationRequested();
                    _checker.OnRoundCompleted(Pool.Name, backends);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    Log.HealthCheckRoundFailed(_checker.Logger, Pool.Name, ex);
                }

                var next = roundStart + _options.Interval;
                var elapsed = _timeProvider.GetElapsedTime(origin);
                roundStart = next > elapsed ? next : elapsed;
                await DelayUntilAsync(origin, roundStart, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped.
        }
    }

    private async Task ProbeAsync(BackendState backend, long origin, TimeSpan at, CancellationToken cancellationToken)
    {
        await DelayUntilAsync(origin, at, cancellationToken).ConfigureAwait(false);
        using var activity = BalancingActivities.StartProbe(Pool.Name, backend);
        var started = _timeProvider.GetTimestamp();
        ProbeResult result;
        Task<ProbeResult>? probing = null;
        using (var timeout = new CancellationTokenSource(_options.Timeout, _timeProvider))
        using (Forwarding.TimeoutSourcePool.CancelWith(timeout, cancellationToken))
        {
            try
            {
                // WaitAsync bounds the wait even for a probe that ignores its token.
                probing = Probe.ProbeAsync(backend, timeout.Token).AsTask();
                result = await probing.WaitAsync(timeout.Token).ConfigureAwait(false);
                if (!result.IsHealthy && timeout.IsCancellationRequested)
                {
                    result = ProbeResult.Unhealthy(_timedOut, result.Exception);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Abandon(probing);
                return;
            }
            catch (OperationCanceledException ex) when (timeout.IsCancellationRequested)
            {
                Abandon(probing);
                result = ProbeResult.Unhealthy(_timedOut, ex);
            }
            catch (Exception ex)
            {
                // A probe that throws is a failing probe; it must not stop the checks.
                result = ProbeResult.Unhealthy($"The probe threw {ex.GetType().Name}: {ex.Message}", ex);
            }
        }

        Record(backend, result, _timeProvider.GetElapsedTime(started));
        BalancingActivities.CompleteProbe(activity, result);
    }

    private void Record(BackendState backend, ProbeResult result, TimeSpan latency)
    {
        lock (_gate)
        {
            // A probe cut short by Stop says nothing about the backend, and the caller may be resetting it.
            if (_stopped)
            {
                return;
            }

            var now = _timeProvider.GetUtcNow();
            var run = backend.RecordProbe(result, latency, now);
            _checker.Metrics?.ProbeCompleted(Pool.Name, backend.Id, result.IsHealthy, latency);
            if (result.IsHealthy)
            {
                if (run >= _options.HealthyThreshold && backend.Health != BackendHealth.Healthy)
                {
                    _checker.ChangeHealth(Pool, backend, BackendHealth.Healthy, string.Create(CultureInfo.InvariantCulture, $"passed {run} probes in a row (last: {result.Description ?? "passed"})"), now);
                }
            }
            else
            {
                Log.HealthProbeFailed(_checker.Logger, backend.Id, Pool.Name, run, result.Description, result.Exception);
                if (run >= _options.UnhealthyThreshold && backend.Health != BackendHealth.Unhealthy)
                {
                    _checker.ChangeHealth(Pool, backend, BackendHealth.Unhealthy, string.Create(CultureInfo.InvariantCulture, $"failed {run} probes in a row (last: {result.Description ?? "failed"})"), now);
                }
            }
        }
    }

    /// <summary>Observes the outcome of a probe left running past its timeout, so its failure is not reported as unobserved.</summary>
    private static void Abandon(Task<ProbeResult>? probing)
    {
        if (probing is { IsCompleted: false })
        {
            probing.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task DelayUntilAsync(long origin, TimeSpan at, CancellationToken cancellationToken)
    {
        var wait = at - _timeProvider.GetElapsedTime(origin);
        if (wait > TimeSpan.Zero)
        {
            // The delay is relative to the moment its timer is armed: if the clock moved between the reading above and
            // then (a jump of a test's clock, a descheduled thread), the deadline may already be behind us.
            var delay = Task.Delay(wait, _timeProvider, cancellationToken);
            if (delay.IsCompleted || _timeProvider.GetElapsedTime(origin) < at)
            {
                await delay.ConfigureAwait(false);
                return;
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
    }
}

/// <summary>One finished round of probes, for tests and diagnostics.</summary>
/// <param name="Pool">The pool's name.</param>
/// <param name="Number">The round's number for that pool since the checker started, from 1.</param>
/// <param name="Backends">The backends probed in the round.</param>
internal sealed record HealthCheckRound(string Pool, long Number, ImmutableArray<BackendState> Backends);
