using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Balancing.Diagnostics;

/// <summary>
/// The balancer's instruments, on one <see cref="Meter"/> named <see cref="BalancingTelemetry.MeterName"/> built from
/// the app's <see cref="IMeterFactory"/>. Names are lowercase and dotted, durations in seconds. Nothing here repeats
/// what ASP.NET Core (<c>http.server.*</c>) and <c>HttpClient</c> (<c>http.client.*</c>) publish already: these say
/// which pool and backend served, how the balancer's own decisions went (attempts, retries, ejections, probes) and
/// what it believes about each backend.
/// </summary>
/// <remarks>
/// Each recording method checks <see cref="Instrument.Enabled"/> before building its tags, and tags are
/// <see cref="TagList"/>s of cached strings, so a request costs no allocation whether or not anyone listens.
/// The gauges read <see cref="BackendState"/> through the registry at each observation, so pools and backends added
/// or removed by a reload show up (or go) at the next one.
/// </remarks>
internal sealed class BalancingMetrics
{
    public const string MeterName = BalancingTelemetry.MeterName;

    public const string RequestDuration = "balancing.request.duration";
    public const string ActiveRequests = "balancing.requests.active";
    public const string Attempts = "balancing.attempts";
    public const string AttemptFailures = "balancing.attempt.failures";
    public const string Retries = "balancing.retries";
    public const string BackendHealth = "balancing.backend.health";
    public const string BackendAvailable = "balancing.backend.available";
    public const string BreakerState = "balancing.backend.breaker.state";
    public const string InFlight = "balancing.backend.in_flight";
    public const string Ejections = "balancing.backend.ejections";
    public const string ProbeDuration = "balancing.probe.duration";
    public const string ProbeFailures = "balancing.probe.failures";
    public const string RateLimitRejections = "balancing.rate_limit.rejections";
    public const string CacheRequests = "balancing.cache.requests";
    public const string CacheSize = "balancing.cache.size";

    /// <summary>From 1 ms to 30 s: a proxied request or a probe rarely takes less, and the longest default timeout is 30 s.</summary>
    private static readonly InstrumentAdvice<double> SecondsAdvice = new()
    {
        HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30],
    };

    private readonly Histogram<double> _requestDuration;
    private readonly Counter<long> _attemptFailures;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _ejections;
    private readonly Histogram<double> _probeDuration;
    private readonly Counter<long> _probeFailures;
    private readonly Counter<long> _rateLimitRejections;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, CacheResultTotals> _cacheTotals = new(StringComparer.Ordinal);
    private volatile Func<long>? _cacheSize;
    private volatile IServerPoolRegistry? _registry;

    public BalancingMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(MeterName);

        _requestDuration = Meter.CreateHistogram(RequestDuration, "s",
            "Requests the balancer finished, counted once whatever their attempts, by pool, backend, status class and outcome: " +
            "time from receiving the request to its response being relayed (or the balancer answering itself).",
            tags: null, SecondsAdvice);
        Meter.CreateObservableUpDownCounter(ActiveRequests, () => ObservePools(static p => (long)p.RequestsInFlight),
            "{request}", "Requests being forwarded now, by pool.");
        Meter.CreateObservableCounter(Attempts, () => ObserveBackends(static (_, b) => b.TotalRequests),
            "{attempt}", "Attempts sent to backends (a request with retries makes several), by pool and backend.");
        _attemptFailures = Meter.CreateCounter<long>(AttemptFailures, "{attempt}",
            "Attempts that got no response from their backend (a response of any status is not a failure here), by pool, backend and outcome.");
        _retries = Meter.CreateCounter<long>(Retries, "{retry}",
            "Retries on another backend, by pool and the reason the previous attempt failed.");
        _ejections = Meter.CreateCounter<long>(Ejections, "{ejection}",
            "Times passive health (the circuit breaker) ejected a backend.");
        _probeDuration = Meter.CreateHistogram(ProbeDuration, "s",
            "Time an active health probe took, by result (pass or fail).",
            tags: null, SecondsAdvice);
        _probeFailures = Meter.CreateCounter<long>(ProbeFailures, "{probe}",
            "Active health probes that failed.");
        _rateLimitRejections = Meter.CreateCounter<long>(RateLimitRejections, "{request}",
            "Requests refused with 429 because their client was over its rate limit, by pool and route (none without one).");

        Meter.CreateObservableCounter(CacheRequests, ObserveCacheRequests, "{request}",
            "GET and HEAD requests the response cache looked at, by pool and result (hit, miss, revalidated, coalesced, bypass, stale).");
        Meter.CreateObservableGauge(CacheSize, ObserveCacheSize, "By",
            "Bytes the response cache holds (bodies, headers and keys, estimated).");

        Meter.CreateObservableGauge(BackendHealth, () => ObserveBackends(static (_, b) => b.Health == Balancing.BackendHealth.Unhealthy ? 0 : 1),
            unit: null, "1 while the backend is Healthy or Unknown (not yet probed), 0 while active health checks say it is Unhealthy.");
        Meter.CreateObservableGauge(BackendAvailable, () => ObserveBackends(static (p, b) => p.AvailableBackends.Contains(b) ? 1 : 0),
            unit: null, "1 while the backend is among those its pool sends new requests to, 0 otherwise.");
        Meter.CreateObservableGauge(BreakerState, () => ObserveBackends(static (_, b) => BreakerValue(b.BreakerState)),
            unit: null, "The backend's circuit breaker: 0 closed, 1 half-open (trial request), 2 open (ejected).");
        Meter.CreateObservableGauge(InFlight, () => ObserveBackends(static (_, b) => (long)b.InFlight),
            "{request}", "Requests the backend is serving now.");
    }

    /// <summary>Gets the meter, for tests and for listeners that filter on it.</summary>
    public Meter Meter { get; }

    /// <summary>Points the gauges at the registry whose pools they report.</summary>
    public void Observe(IServerPoolRegistry registry) => _registry = registry;

    /// <summary>
    /// Records a finished request: one duration, whose histogram count is the request count (Prometheus
    /// <c>balancing_request_duration_seconds_count</c>), so a request is one measurement rather than two.
    /// </summary>
    public void RequestEnded(string pool, in FinishedRequest finished, TimeSpan elapsed)
    {
        if (!_requestDuration.Enabled)
        {
            return;
        }

        var tags = new TagList
        {
            { TelemetryTags.Pool, pool },
            { TelemetryTags.Backend, TelemetryTags.BackendOf(finished.Backend) },
            { TelemetryTags.StatusClass, TelemetryTags.StatusClassOf(finished.StatusCode) },
            { TelemetryTags.Outcome, TelemetryTags.OutcomeOf(finished.Outcome) },
        };
        _requestDuration.Record(elapsed.TotalSeconds, in tags);
    }

    /// <summary>
    /// Records one attempt on a backend that failed (a response, whatever its status, is not a failure). Attempts
    /// themselves are counted by <see cref="BackendState.TotalRequests"/> and observed at collection, so a successful
    /// attempt costs no measurement.
    /// </summary>
    public void AttemptEnded(string pool, BackendState backend, in BalancedResponse result)
    {
        if (result.Error != ForwardError.None && _attemptFailures.Enabled)
        {
            _attemptFailures.Add(1, new TagList
            {
                { TelemetryTags.Pool, pool },
                { TelemetryTags.Backend, backend.Id },
                { TelemetryTags.Outcome, TelemetryTags.OutcomeOf(result.Error) },
            });
        }
    }

    /// <summary>Records a retry, with the failure of the attempt before it as the reason.</summary>
    public void Retried(string pool, in BalancedResponse previous)
    {
        if (_retries.Enabled)
        {
            _retries.Add(1,
                new KeyValuePair<string, object?>(TelemetryTags.Pool, pool),
                new KeyValuePair<string, object?>(TelemetryTags.Reason, TelemetryTags.RetryReasonOf(previous)));
        }
    }

    public void BackendEjected(string pool, string backend)
    {
        if (_ejections.Enabled)
        {
            _ejections.Add(1,
                new KeyValuePair<string, object?>(TelemetryTags.Pool, pool),
                new KeyValuePair<string, object?>(TelemetryTags.Backend, backend));
        }
    }

    public void ProbeCompleted(string pool, string backend, bool passed, TimeSpan elapsed)
    {
        if (_probeDuration.Enabled)
        {
            _probeDuration.Record(elapsed.TotalSeconds,
                new KeyValuePair<string, object?>(TelemetryTags.Pool, pool),
                new KeyValuePair<string, object?>(TelemetryTags.Backend, backend),
                new KeyValuePair<string, object?>(TelemetryTags.Result, passed ? TelemetryTags.Pass : TelemetryTags.Fail));
        }

        if (!passed && _probeFailures.Enabled)
        {
            _probeFailures.Add(1,
                new KeyValuePair<string, object?>(TelemetryTags.Pool, pool),
                new KeyValuePair<string, object?>(TelemetryTags.Backend, backend));
        }
    }

    /// <summary>
    /// Counts a request the rate limiter refused. The request itself is recorded as finished by <see cref="RequestEnded"/>
    /// with <see cref="FinishedRequest.RateLimited"/>.
    /// </summary>
    /// <param name="pool">The pool the request was routed to.</param>
    /// <param name="route">The route that matched it, or <see langword="null"/> when none did (no routes, or <c>MapLoadBalancer</c>).</param>
    public void RateLimitRejected(string pool, string? route)
    {
        if (_rateLimitRejections.Enabled)
        {
            _rateLimitRejections.Add(1,
                new KeyValuePair<string, object?>(TelemetryTags.Pool, pool),
                new KeyValuePair<string, object?>(TelemetryTags.Route, route ?? TelemetryTags.None));
        }
    }

    /// <summary>
    /// Counts one request the response cache looked at; <paramref name="result"/> is one of the cached tag values. The
    /// counts are running totals read when metrics are collected (an observable counter, like the attempts): every GET
    /// through the cache is counted, and a measurement per request cost more than the cache lookup itself.
    /// </summary>
    public void CacheRequest(string pool, string result)
    {
        if (!_cacheTotals.TryGetValue(pool, out var totals))
        {
            totals = _cacheTotals.GetOrAdd(pool, static _ => new CacheResultTotals());
        }

        totals.Add(result);
    }

    private List<Measurement<long>> ObserveCacheRequests()
    {
        var measurements = new List<Measurement<long>>();
        foreach (var (pool, totals) in _cacheTotals)
        {
            totals.Observe(pool, measurements);
        }

        return measurements;
    }

    /// <summary>Points the cache size gauge at the response cache.</summary>
    public void ObserveCacheSize(Func<long> read) => _cacheSize = read;

    private IEnumerable<Measurement<long>> ObserveCacheSize()
        => _cacheSize is { } read ? [new Measurement<long>(read())] : [];

    /// <summary>The enum's order (closed, open, half-open) is not the gauge's, which rises with the severity.</summary>
    internal static int BreakerValue(Balancing.BreakerState state) => state switch
    {
        Balancing.BreakerState.HalfOpen => 1,
        Balancing.BreakerState.Open => 2,
        _ => 0,
    };

    private List<Measurement<long>> ObservePools(Func<Pools.ServerPool, long> read)
    {
        var measurements = new List<Measurement<long>>();
        if (_registry is not { } registry)
        {
            return measurements;
        }

        foreach (var pool in registry.Pools)
        {
            if (pool is Pools.ServerPool serverPool)
            {
                measurements.Add(new Measurement<long>(read(serverPool), new KeyValuePair<string, object?>(TelemetryTags.Pool, pool.Name)));
            }
        }

        return measurements;
    }

    private List<Measurement<T>> ObserveBackends<T>(Func<IServerPool, BackendState, T> read)
        where T : struct
    {
        var measurements = new List<Measurement<T>>();
        if (_registry is not { } registry)
        {
            return measurements;
        }

        // The pools and their backends as they are now: a reload between two observations is simply seen by the next.
        foreach (var pool in registry.Pools)
        {
            foreach (var backend in pool.Backends)
            {
                measurements.Add(new Measurement<T>(read(pool, backend), new TagList
                {
                    { TelemetryTags.Pool, pool.Name },
                    { TelemetryTags.Backend, backend.Id },
                }));
            }
        }

        return measurements;
    }
}

/// <summary>One pool's running totals of response cache results, counted without a lock.</summary>
internal sealed class CacheResultTotals
{
    private readonly long[] _counts = new long[Statistics.CacheCounts.Results.Length];

    public void Add(string result)
    {
        var index = Statistics.CacheCounts.IndexOf(result);
        if (index >= 0)
        {
            Interlocked.Increment(ref _counts[index]);
        }
    }

    /// <summary>Adds one measurement per result seen so far: a result never seen has no series yet, as with a counter.</summary>
    public void Observe(string pool, List<Measurement<long>> measurements)
    {
        for (var i = 0; i < _counts.Length; i++)
        {
            var count = Volatile.Read(ref _counts[i]);
            if (count > 0)
            {
                measurements.Add(new Measurement<long>(count,
                    new KeyValuePair<string, object?>(TelemetryTags.Pool, pool),
                    new KeyValuePair<string, object?>(TelemetryTags.Result, Statistics.CacheCounts.Results[i])));
            }
        }
    }
}
