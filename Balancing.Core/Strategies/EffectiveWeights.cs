namespace Balancing.Strategies;

/// <summary>
/// The weights a pool's weighted strategies work with: each backend's configured weight, lowered while the backend ramps
/// up after entering service (slow start), and a version that changes whenever the pool's candidates or weights change,
/// so that a strategy can cache what it computes from them and notice cheaply when that went stale.
/// </summary>
/// <remarks>
/// Effective weights are in hundredths of the configured weight (<see cref="Full"/>), so a ramp moves in 1 % steps while
/// plain integer arithmetic still compares them exactly. A ramp starts at <see cref="Floor"/> (10 %, Envoy's default
/// <c>min_weight_percent</c>; NGINX Plus starts from nothing, which starves a backend that has a low weight) and grows
/// linearly to 100 % over the pool's <see cref="PoolOptions.SlowStart"/> window. While no backend ramps, <see cref="Now"/>
/// costs one volatile read and no clock read.
/// </remarks>
internal sealed class EffectiveWeights
{
    /// <summary>The effective weight of one unit of configured weight, outside a ramp.</summary>
    public const int Full = 100;

    /// <summary>The effective weight of one unit of configured weight when a ramp starts.</summary>
    public const int Floor = 10;

    private readonly TimeProvider _timeProvider;
    private volatile BackendState[]? _candidates;
    private long _windowTicks;
    private long _rampingUntil;
    private int _version;

    public EffectiveWeights(TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
    }

    /// <summary>Gets a version that changes whenever the candidates, a weight or the ramp window changes.</summary>
    public int Version => Volatile.Read(ref _version);

    /// <summary>
    /// Gets the pool's current candidates (its available-backend snapshot), or <see langword="null"/> for a strategy used
    /// without a pool. A strategy builds its tables for this array only: any other span it is handed is a retry's subset.
    /// </summary>
    public BackendState[]? Candidates => _candidates;

    /// <summary>Gets the slow-start window.</summary>
    public TimeSpan Window => TimeSpan.FromTicks(Volatile.Read(ref _windowTicks));

    /// <summary>Gets a value indicating whether some backend may still be ramping up.</summary>
    public bool IsRamping => Volatile.Read(ref _rampingUntil) != 0;

    /// <summary>
    /// Gets the time (UTC ticks) that effective weights are computed for, or 0 when no backend is ramping, in which case
    /// every effective weight is the configured one and the clock is not read at all.
    /// </summary>
    public long Now()
    {
        var until = Volatile.Read(ref _rampingUntil);
        if (until == 0)
        {
            return 0;
        }

        var now = _timeProvider.GetUtcNow().UtcTicks;
        if (now < until)
        {
            return now;
        }

        // The last ramp ended: say so once, so that cached tables are rebuilt with the full weights.
        if (Interlocked.CompareExchange(ref _rampingUntil, 0, until) == until)
        {
            Changed();
        }

        return 0;
    }

    /// <summary>Gets <paramref name="backend"/>'s effective weight at <paramref name="now"/> (from <see cref="Now"/>).</summary>
    public long Of(BackendState backend, long now)
    {
        long weight = backend.Weight;
        if (now == 0)
        {
            return weight * Full;
        }

        var window = Volatile.Read(ref _windowTicks);
        if (window <= 0 || backend.InServiceSince is not { } since)
        {
            return weight * Full;
        }

        var elapsed = Math.Max(0, now - since.UtcTicks);
        if (elapsed >= window)
        {
            return weight * Full;
        }

        // The window is at most int.MaxValue milliseconds (validated), so 90 times it still fits a long.
        return weight * (Floor + ((Full - Floor) * elapsed / window));
    }

    /// <summary>
    /// Gets when effective weights computed at <paramref name="now"/> are next due to change by a step, or
    /// <see cref="long.MaxValue"/> when no backend is ramping.
    /// </summary>
    public long NextChange(long now)
        => now == 0 ? long.MaxValue : now + Math.Max(1, Volatile.Read(ref _windowTicks) / (Full - Floor));

    /// <summary>Records that <paramref name="backend"/> entered service at <paramref name="at"/> and starts its ramp.</summary>
    public void EnteredService(BackendState backend, DateTimeOffset at)
    {
        backend.InServiceSince = at;
        var window = Volatile.Read(ref _windowTicks);
        if (window <= 0)
        {
            return;
        }

        var end = at.UtcTicks + window;
        var current = Volatile.Read(ref _rampingUntil);
        while (current < end)
        {
            var seen = Interlocked.CompareExchange(ref _rampingUntil, end, current);
            if (seen == current)
            {
                break;
            }

            current = seen;
        }
    }

    /// <summary>Sets the slow-start window; <see cref="TimeSpan.Zero"/> turns ramping off at once.</summary>
    public void SetWindow(TimeSpan window)
    {
        var ticks = Math.Max(0, window.Ticks);
        if (Interlocked.Exchange(ref _windowTicks, ticks) == ticks)
        {
            return;
        }

        if (ticks == 0)
        {
            Volatile.Write(ref _rampingUntil, 0);
        }

        Changed();
    }

    /// <summary>Publishes the pool's new candidate snapshot; called whenever the pool refreshes it.</summary>
    public void Publish(BackendState[] candidates)
    {
        _candidates = candidates;
        Changed();
    }

    /// <summary>Tells the strategies that the candidates or their weights changed.</summary>
    public void Changed() => Interlocked.Increment(ref _version);
}
