using Balancing.Diagnostics;
using Balancing.Pools;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;

namespace Balancing.Passive;

/// <summary>
/// One backend's circuit breaker, fed by every attempt sent to it. Two Polly breakers share the work: one trips on a
/// run of failures with no success between them (so a quiet backend is ejected too: Polly's ratio breaker needs a
/// minimum throughput first), the other on a failure ratio under load. Opening ejects the backend from its pool for
/// an exponentially growing time; when that time ends it is readmitted for a trial request whose success closes it.
/// </summary>
/// <remarks>
/// A backend is <em>watched</em> from a failure until <see cref="PassiveHealthCheckOptions.SamplingDuration"/> passes
/// without another one, and while its breaker is not closed. Only watched attempts run through the Polly pipeline;
/// an unwatched attempt is sent directly and, if it fails, its outcome is fed to the pipeline afterwards (which starts
/// the watch). A success to a closed breaker with no failure in the window can neither trip nor close it, so skipping
/// the pipeline for it changes no decision except one: the windows do not count successes from before the first
/// failure. That makes the run-of-failures breaker closer to a true consecutive count (Envoy's
/// <c>consecutive_5xx</c>) and overstates the ratio by at most one failure in <c>MinimumThroughput</c> attempts.
/// </remarks>
internal sealed class BackendBreaker : IDisposable
{
    private readonly BackendState _backend;
    private readonly ServerPool _pool;
    private readonly PassiveHealthCheckOptions _options;
    private readonly Health.HealthStatusCodes _failureStatusCodes;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Lock _timerLock = new();
    private readonly long _watchLength;
    private ITimer? _readmitTimer;
    private long _watchedUntil;

    public BackendBreaker(BackendState backend, ServerPool pool, PassiveHealthCheckOptions options, Health.HealthStatusCodes failureStatusCodes, TimeProvider timeProvider, ILogger logger)
    {
        _backend = backend;
        _pool = pool;
        _options = options;
        _failureStatusCodes = failureStatusCodes;
        _timeProvider = timeProvider;
        _logger = logger;
        _watchLength = (long)(options.SamplingDuration.TotalSeconds * timeProvider.TimestampFrequency);

        var builder = new ResiliencePipelineBuilder<BalancedResponse> { TimeProvider = timeProvider };
        builder.AddCircuitBreaker(Strategy(failureRatio: 1.0, Math.Max(2, options.ConsecutiveFailures)));
        builder.AddCircuitBreaker(Strategy(options.FailureRatio, Math.Max(2, options.MinimumThroughput)));
        Pipeline = builder.Build();
    }

    public ResiliencePipeline<BalancedResponse> Pipeline { get; }

    public PassiveHealthCheckOptions Options => _options;

    public CircuitBreakerManualControl Control { get; } = new();

    /// <summary>
    /// Gets a value indicating whether the next attempt must run through <see cref="Pipeline"/>: the breaker is open or
    /// half-open, or a failure happened within the sampling window.
    /// </summary>
    public bool IsWatching
    {
        get
        {
            if (_backend.BreakerState != BreakerState.Closed)
            {
                return true;
            }

            var until = Volatile.Read(ref _watchedUntil);
            return until != 0 && _timeProvider.GetTimestamp() < until;
        }
    }

    /// <summary>Feeds the outcome of an attempt sent outside the pipeline (see <see cref="IsWatching"/>) if it failed.</summary>
    public ValueTask RecordAsync(BalancedResponse result)
    {
        if (!IsFailure(Outcome.FromResult(result)))
        {
            return default;
        }

        return RecordFailureAsync(result);
    }

    /// <summary>What counts against a backend: it broke the exchange, did not answer in time, or answered a failure status.</summary>
    public bool IsFailure(Outcome<BalancedResponse> outcome)
    {
        if (outcome.Exception is not null)
        {
            return outcome.Exception is not (BrokenCircuitException or OperationCanceledException);
        }

        var result = outcome.Result;
        return result.Error switch
        {
            ForwardError.ConnectFailed or ForwardError.ConnectTimeout or ForwardError.ResponseTimeout or ForwardError.BackendProtocolError => true,
            ForwardError.None => result.Response is { } response && _failureStatusCodes.Contains((int)response.StatusCode),
            _ => false,
        };
    }

    private async ValueTask RecordFailureAsync(BalancedResponse result)
    {
        Watch();
        var context = ResilienceContextPool.Shared.Get();
        try
        {
            // The callback only hands back what already happened; an open breaker refuses it, which is fine.
            await Pipeline.ExecuteOutcomeAsync(static (_, outcome) => ValueTask.FromResult(outcome), context, Outcome.FromResult(result)).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private void Watch() => Volatile.Write(ref _watchedUntil, _timeProvider.GetTimestamp() + _watchLength);

    private bool Handle(Outcome<BalancedResponse> outcome)
    {
        if (!IsFailure(outcome))
        {
            return false;
        }

        Watch();
        return true;
    }

    public void Dispose()
    {
        lock (_timerLock)
        {
            _readmitTimer?.Dispose();
            _readmitTimer = null;
        }
    }

    private CircuitBreakerStrategyOptions<BalancedResponse> Strategy(double failureRatio, int minimumThroughput) => new()
    {
        FailureRatio = failureRatio,
        MinimumThroughput = minimumThroughput,
        SamplingDuration = _options.SamplingDuration,
        ManualControl = Control,
        ShouldHandle = args => ValueTask.FromResult(Handle(args.Outcome)),
        BreakDurationGenerator = _ => ValueTask.FromResult(NextBreak()),
        OnOpened = args => OnOpened(args.BreakDuration),
        OnClosed = _ => OnClosed(),
        OnHalfOpened = _ => default,
    };

    /// <summary>Each ejection lasts twice the previous one, from the base up to the maximum (Envoy's schedule).</summary>
    private TimeSpan NextBreak()
    {
        var factor = Math.Pow(2, Math.Min(_backend.EjectionCount, 20));
        var next = TimeSpan.FromTicks((long)Math.Min(_options.BaseEjectionTime.Ticks * factor, _options.MaxEjectionTime.Ticks));
        return next < _options.BaseEjectionTime ? _options.BaseEjectionTime : next;
    }

    private ValueTask OnOpened(TimeSpan breakDuration)
    {
        if (!_pool.CanEject(_options.MaxEjectionPercent))
        {
            // Too much of the pool is out already: keep this one serving rather than concentrate the load further.
            Log.EjectionRefused(_logger, _backend.Id, _pool.Name, _options.MaxEjectionPercent);
            _ = Task.Run(() => Control.CloseAsync());
            return default;
        }

        var until = _timeProvider.GetUtcNow() + breakDuration;
        _backend.Eject(until);
        _pool.Metrics?.BackendEjected(_pool.Name, _backend.Id);
        Log.BackendEjected(_logger, _backend.Id, _pool.Name, breakDuration.TotalSeconds, _backend.EjectionCount);
        lock (_timerLock)
        {
            _readmitTimer?.Dispose();
            _readmitTimer = _timeProvider.CreateTimer(
                static state => ((BackendBreaker)state!).Readmit(),
                this,
                breakDuration,
                Timeout.InfiniteTimeSpan);
        }

        return default;
    }

    private void Readmit()
    {
        // The breaker itself moves to half-open on the next call; this lets that call happen.
        _backend.Readmit(BreakerState.HalfOpen);
        Log.BackendReadmitted(_logger, _backend.Id, _pool.Name);
    }

    private ValueTask OnClosed()
    {
        lock (_timerLock)
        {
            _readmitTimer?.Dispose();
            _readmitTimer = null;
        }

        _backend.Readmit(BreakerState.Closed);
        return default;
    }
}
