namespace Balancing;

/// <summary>
/// One backend of a pool and its live state: in-flight requests, counters, last outcome and health.
/// </summary>
/// <remarks>
/// One instance per backend is shared by strategies, probes, the breaker, the dashboard and the metrics:
/// one source of truth, many readers. Every member is safe to call from many threads at once; counters use
/// <see cref="Interlocked"/> operations and reads never take a lock. An instance survives a configuration
/// reload as long as the backend keeps its name, address and host.
/// </remarks>
public sealed partial class BackendState
{
    private readonly Lock _healthLock = new();
    private int _inFlight;
    private long _requests;
    private long _failures;
    private int _lastOutcome;
    private int _health;
    private int _weight;
    private int _ejected;
    private int _breakerState;
    private int _ejectionCount;
    private long _inServiceSince;
    private ProbeRecord? _probe;

    /// <summary>Creates the state of a backend.</summary>
    /// <param name="id">The backend's name, unique within its pool.</param>
    /// <param name="address">The absolute http or https address that requests are sent to.</param>
    /// <param name="weight">The backend's relative weight; 0 means no new traffic.</param>
    /// <exception cref="ArgumentException">The address is not an absolute http or https URI.</exception>
    public BackendState(string id, Uri address, int weight = 1)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(address);
        if (!address.IsAbsoluteUri || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"Backend address '{address}' must be an absolute http or https URI.", nameof(address));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(weight);
        Id = id;
        Address = address;
        _weight = weight;

        // Requests are sent to the address followed by the client's path and query, byte for byte,
        // so the prefix is kept without its trailing slash.
        var prefix = address.GetLeftPart(UriPartial.Path);
        AddressPrefix = prefix.EndsWith('/') ? prefix[..^1] : prefix;
    }

    /// <summary>Gets the backend's name, unique within its pool.</summary>
    public string Id { get; }

    /// <summary>Gets the address requests are sent to.</summary>
    public Uri Address { get; }

    /// <summary>Gets the address as a string without a trailing slash, ready to be followed by a path.</summary>
    public string AddressPrefix { get; }

    /// <summary>
    /// Gets the host (and port) sent as the <c>Host</c> header, and used for TLS SNI and certificate validation, when it
    /// differs from the host of <see cref="Address"/>: a backend discovered by DNS is reached at its IP address but keeps
    /// the name it was found under. A pool that preserves the client's <c>Host</c> sends the client's instead.
    /// </summary>
    /// <value>The default is <see langword="null"/>: the host of <see cref="Address"/>.</value>
    public string? Host { get; init; }

    /// <summary>Gets or sets the backend's relative weight; 0 means the backend receives no new traffic.</summary>
    /// <value>The default is 1.</value>
    public int Weight
    {
        get => Volatile.Read(ref _weight);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            Volatile.Write(ref _weight, value);
        }
    }

    /// <summary>Gets the number of requests currently being served by this backend.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Gets the number of requests sent to this backend since it joined the pool.</summary>
    public long TotalRequests => Interlocked.Read(ref _requests);

    /// <summary>Gets the number of those requests that ended in a failure outcome.</summary>
    public long TotalFailures => Interlocked.Read(ref _failures);

    /// <summary>Gets how the most recent request to this backend ended.</summary>
    public BackendOutcome LastOutcome => (BackendOutcome)Volatile.Read(ref _lastOutcome);

    /// <summary>Gets the backend's current health.</summary>
    public BackendHealth Health => (BackendHealth)Volatile.Read(ref _health);

    /// <summary>Gets when <see cref="Health"/> last changed, or <see langword="null"/> if it never did.</summary>
    public DateTimeOffset? HealthChangedAt { get; private set; }

    /// <summary>
    /// Gets or sets when the backend last entered service after being out of it: it joined its pool on a configuration
    /// change, turned healthy again, was readmitted after an ejection, or got a weight above 0 again. The pool sets it;
    /// slow start ramps the backend's weight up from that moment.
    /// </summary>
    /// <value>The default is <see langword="null"/>: the backend has been in service since its pool was first configured.</value>
    public DateTimeOffset? InServiceSince
    {
        // Kept as UTC ticks in one 64-bit field, so a reader never sees half of an update.
        get => Volatile.Read(ref _inServiceSince) is var ticks and not 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;
        set => Volatile.Write(ref _inServiceSince, value?.UtcTicks ?? 0);
    }

    /// <summary>Gets a value indicating whether the backend may receive new requests (not unhealthy, weight above 0).</summary>
    public bool IsAvailable => Health != BackendHealth.Unhealthy && Weight > 0 && !IsEjected;

    /// <summary>Gets a value indicating whether passive health (the circuit breaker) has ejected the backend.</summary>
    public bool IsEjected => Volatile.Read(ref _ejected) != 0;

    /// <summary>Gets the state of the backend's circuit breaker.</summary>
    public BreakerState BreakerState => (BreakerState)Volatile.Read(ref _breakerState);

    /// <summary>Gets how many times the backend has been ejected since it joined the pool.</summary>
    public int EjectionCount => Volatile.Read(ref _ejectionCount);

    /// <summary>Gets when the current ejection ends, or <see langword="null"/> when the backend is not ejected.</summary>
    public DateTimeOffset? EjectedUntil { get; private set; }

    /// <summary>Raised after <see cref="IsEjected"/> changed, on the thread that changed it.</summary>
    public event EventHandler? EjectionChanged;

    /// <summary>Ejects the backend until <paramref name="until"/>: it receives no new traffic meanwhile.</summary>
    /// <param name="until">When the break ends and a trial request is admitted.</param>
    public void Eject(DateTimeOffset until)
    {
        EjectedUntil = until;
        Interlocked.Increment(ref _ejectionCount);
        Volatile.Write(ref _breakerState, (int)BreakerState.Open);
        if (Interlocked.Exchange(ref _ejected, 1) == 0)
        {
            EjectionChanged?.Invoke(this, EventArgs.Empty);
        }
    }

    /// <summary>Lets traffic reach the backend again, as a trial (<see cref="BreakerState.HalfOpen"/>) or for good.</summary>
    /// <param name="state">The breaker state after readmission.</param>
    public void Readmit(BreakerState state)
    {
        EjectedUntil = null;
        Volatile.Write(ref _breakerState, (int)state);
        if (Interlocked.Exchange(ref _ejected, 0) == 1)
        {
            EjectionChanged?.Invoke(this, EventArgs.Empty);
        }
    }

    /// <summary>Raised after <see cref="Health"/> changed. Handlers run on the thread that made the change.</summary>
    public event EventHandler<BackendHealthChangedEventArgs>? HealthChanged;

    /// <summary>Records that a request was sent to this backend.</summary>
    public void RequestStarted()
    {
        Interlocked.Increment(ref _inFlight);
        Interlocked.Increment(ref _requests);
    }

    /// <summary>Records that a request sent to this backend ended, and how.</summary>
    /// <param name="outcome">How the request ended.</param>
    public void RequestCompleted(BackendOutcome outcome)
    {
        Interlocked.Decrement(ref _inFlight);
        if (outcome is BackendOutcome.FailureStatus or BackendOutcome.TransportError or BackendOutcome.Timeout)
        {
            Interlocked.Increment(ref _failures);
        }

        if (outcome != BackendOutcome.Canceled)
        {
            Volatile.Write(ref _lastOutcome, (int)outcome);
        }
    }

    /// <summary>Sets the backend's health and raises <see cref="HealthChanged"/> if it changed.</summary>
    /// <param name="health">The new health.</param>
    /// <param name="reason">Why it changed, for logs.</param>
    /// <param name="timestamp">When it changed.</param>
    /// <returns><see langword="true"/> if the health changed.</returns>
    public bool SetHealth(BackendHealth health, string? reason, DateTimeOffset timestamp)
    {
        BackendHealth previous;
        lock (_healthLock)
        {
            previous = Health;
            if (previous == health)
            {
                return false;
            }

            Volatile.Write(ref _health, (int)health);
            HealthChangedAt = timestamp;
        }

        HealthChanged?.Invoke(this, new BackendHealthChangedEventArgs(previous, health, reason));
        return true;
    }

    // ---- Active health checks: the last probe and the run of equal results, published as one immutable record. ----

    /// <summary>Gets the result of the most recent health probe, or <see langword="null"/> if none was recorded.</summary>
    public ProbeResult? LastProbe => Volatile.Read(ref _probe)?.Result;

    /// <summary>Gets how long the most recent health probe took, or <see langword="null"/> if none was recorded.</summary>
    public TimeSpan? LastProbeLatency => Volatile.Read(ref _probe)?.Latency;

    /// <summary>Gets when the most recent health probe ended, or <see langword="null"/> if none was recorded.</summary>
    public DateTimeOffset? LastProbeAt => Volatile.Read(ref _probe)?.At;

    /// <summary>Gets the number of health probes in a row, up to the most recent, that the backend passed.</summary>
    public int ConsecutiveProbePasses => Volatile.Read(ref _probe)?.Passes ?? 0;

    /// <summary>Gets the number of health probes in a row, up to the most recent, that the backend failed.</summary>
    public int ConsecutiveProbeFailures => Volatile.Read(ref _probe)?.Failures ?? 0;

    /// <summary>
    /// Records the result of a health probe: updates <see cref="LastProbe"/>, <see cref="LastProbeLatency"/>,
    /// <see cref="LastProbeAt"/> and the consecutive counters (a pass resets the failures, a failure the passes).
    /// Does not change <see cref="Health"/>; the health checker decides that from the counters.
    /// </summary>
    /// <param name="result">The probe's result.</param>
    /// <param name="latency">How long the probe took.</param>
    /// <param name="timestamp">When the probe ended.</param>
    /// <returns>The number of probes in a row, this one included, with the same verdict as <paramref name="result"/>.</returns>
    public int RecordProbe(ProbeResult result, TimeSpan latency, DateTimeOffset timestamp)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(latency, TimeSpan.Zero);

        // Lock-free: readers see either the previous record or the new one, never a mix of the two.
        while (true)
        {
            var previous = Volatile.Read(ref _probe);
            var next = result.IsHealthy
                ? new ProbeRecord(result, latency, timestamp, (previous?.Passes ?? 0) + 1, 0)
                : new ProbeRecord(result, latency, timestamp, 0, (previous?.Failures ?? 0) + 1);
            if (ReferenceEquals(Interlocked.CompareExchange(ref _probe, next, previous), previous))
            {
                return result.IsHealthy ? next.Passes : next.Failures;
            }
        }
    }

    /// <summary>
    /// Forgets every recorded probe: <see cref="LastProbe"/> and its companions become <see langword="null"/> and the
    /// counters 0. Called when active health checks are turned off for the backend's pool.
    /// </summary>
    public void ClearProbes() => Volatile.Write(ref _probe, null);

    /// <inheritdoc/>
    public override string ToString() => $"{Id} ({Address})";

    private sealed record ProbeRecord(ProbeResult Result, TimeSpan Latency, DateTimeOffset At, int Passes, int Failures);
}
