using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace Balancing.Pools;

/// <summary>
/// A pool of backends. The backend lists are immutable arrays published through volatile fields and
/// replaced whole on change, so the request path reads them without locks or allocation.
/// </summary>
internal sealed class ServerPool : IServerPool
{
    private readonly Lock _writeLock = new();
    private readonly TimeProvider _timeProvider;
    private volatile BackendState[] _backends = [];
    private volatile BackendState[] _available = [];
    private volatile ILoadStrategy _strategy;
    private volatile PoolOptions _options;
    private readonly Microsoft.Extensions.Logging.ILogger _logger;
    private volatile System.Collections.Frozen.FrozenDictionary<BackendState, Passive.BackendBreaker> _breakers =
        System.Collections.Frozen.FrozenDictionary<BackendState, Passive.BackendBreaker>.Empty;
    private int _requestsInFlight;
    private int _retriesInFlight;
    private readonly Strategies.EffectiveWeights _weights;
    private HashSet<BackendState>? _inService;

    /// <param name="name">The pool's name.</param>
    /// <param name="options">The pool's settings; already validated.</param>
    /// <param name="strategy">The pool's own strategy instance.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="logger">Where breakers log; none by default.</param>
    /// <param name="backends">The backends, configured and discovered; by default the configured static ones.</param>
    public ServerPool(string name, PoolOptions options, ILoadStrategy strategy, TimeProvider timeProvider, Microsoft.Extensions.Logging.ILogger? logger = null, IReadOnlyList<DiscoveredBackend>? backends = null)
    {
        _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        Name = name;
        _strategy = strategy;
        _options = options;
        _timeProvider = timeProvider;
        _weights = new Strategies.EffectiveWeights(timeProvider);
        Update(options, backends ?? ConfiguredBackends(options), strategy);
    }

    public string Name { get; }

    public ILoadStrategy Strategy => _strategy;

    /// <summary>Gets the HTTP version requested from backends, parsed from <see cref="PoolOptions.HttpVersion"/>.</summary>
    public Version RequestVersion { get; private set; } = System.Net.HttpVersion.Version20;

    /// <summary>Gets the failover policy, or <see langword="null"/> when the pool does not retry.</summary>
    public Forwarding.RetryPolicy? Retry { get; private set; }

    /// <summary>Gets the number of requests in flight through the pool (each counted once, whatever its attempts).</summary>
    public int RequestsInFlight => Volatile.Read(ref _requestsInFlight);

    /// <summary>Gets the number of those requests that are on a retry.</summary>
    public int RetriesInFlight => Volatile.Read(ref _retriesInFlight);

    public void RequestStarted() => Interlocked.Increment(ref _requestsInFlight);

    public void RequestEnded(bool heldRetry)
    {
        Interlocked.Decrement(ref _requestsInFlight);
        if (heldRetry)
        {
            Interlocked.Decrement(ref _retriesInFlight);
        }
    }

    public void RetryStarted() => Interlocked.Increment(ref _retriesInFlight);

    /// <summary>Gets a backend's circuit breaker, or <see langword="null"/> when passive health is off.</summary>
    public Passive.BackendBreaker? GetBreaker(BackendState backend) => _breakers.GetValueOrDefault(backend);

    /// <summary>Keeps the breakers (and their counts) of surviving backends while the passive settings stay the same.</summary>
    private void UpdateBreakers(BackendState[] backends, PassiveHealthCheckOptions passive)
    {
        var previous = _breakers;
        var next = new Dictionary<BackendState, Passive.BackendBreaker>();
        if (passive.Enabled)
        {
            var codes = Passive.PassiveHealth.FailureCodes(passive);
            foreach (var backend in backends)
            {
                next[backend] = previous.TryGetValue(backend, out var existing) && Passive.PassiveHealth.SameSettings(existing.Options, passive)
                    ? existing
                    : new Passive.BackendBreaker(backend, this, passive, codes, _timeProvider, _logger);
            }
        }

        foreach (var (backend, breaker) in previous)
        {
            if (!next.TryGetValue(backend, out var kept) || !ReferenceEquals(kept, breaker))
            {
                // Its readmission timer goes with it, so an ejected backend is readmitted now: the new breaker (if any)
                // starts closed, and counting starts afresh under the new settings.
                breaker.Dispose();
                if (backend.IsEjected)
                {
                    backend.Readmit(BreakerState.Closed);
                }
            }
        }

        _breakers = System.Collections.Frozen.FrozenDictionary.ToFrozenDictionary(next);
    }

    /// <summary>Envoy's rule: at most a share of the pool may be ejected at once, but one backend always may.</summary>
    public bool CanEject(int maxEjectionPercent)
    {
        var all = _backends;
        var ejected = 0;
        foreach (var backend in all)
        {
            if (backend.IsEjected)
            {
                ejected++;
            }
        }

        return ejected < Math.Max(1, all.Length * maxEjectionPercent / 100);
    }

    /// <summary>Envoy's retry budget: retries in flight stay under a share of the requests in flight, with a floor.</summary>
    public bool HasRetryBudget(Forwarding.RetryPolicy policy)
        => RetriesInFlight < Math.Max(policy.MinRetryConcurrency, policy.BudgetRatio * RequestsInFlight);

    /// <summary>Gets the pool's settings as of the last applied configuration.</summary>
    public PoolOptions Options => _options;

    public ImmutableArray<BackendState> Backends => ImmutableCollectionsMarshal.AsImmutableArray(_backends);

    public ImmutableArray<BackendState> AvailableBackends => ImmutableCollectionsMarshal.AsImmutableArray(_available);

    public BackendState? FindBackend(string id)
    {
        foreach (var backend in _backends)
        {
            if (string.Equals(backend.Id, id, StringComparison.OrdinalIgnoreCase))
            {
                return backend;
            }
        }

        return null;
    }

    /// <summary>Applies new settings, with the backends configured statically (see <see cref="ConfiguredBackends"/>).</summary>
    /// <param name="options">The new settings; already validated.</param>
    /// <param name="strategy">The strategy to use, or <see langword="null"/> to keep the current one.</param>
    public void Update(PoolOptions options, ILoadStrategy? strategy) => Update(options, ConfiguredBackends(options), strategy);

    /// <summary>The backends configured with <see cref="BackendDiscovery.Static"/>, in configuration order.</summary>
    public static List<DiscoveredBackend> ConfiguredBackends(PoolOptions options)
    {
        var backends = new List<DiscoveredBackend>(options.Backends.Count);
        foreach (var (id, backend) in options.Backends)
        {
            if (backend.Discovery == BackendDiscovery.Static)
            {
                backends.Add(new DiscoveredBackend(id, new Uri(backend.Address, UriKind.Absolute), backend.Weight));
            }
        }

        return backends;
    }

    /// <summary>
    /// Applies new settings and backends: configured ones and those discovered by backend sources, alike. A backend that
    /// keeps its name, address and host keeps its state object (and so its in-flight count, counters, health and
    /// breaker); one whose address changed is a new backend. Configuration reloads and discovery refreshes both come
    /// through here.
    /// </summary>
    /// <param name="options">The new settings; already validated.</param>
    /// <param name="backends">The backends; ids are unique (case-insensitive).</param>
    /// <param name="strategy">The strategy to use, or <see langword="null"/> to keep the current one.</param>
    public void Update(PoolOptions options, IReadOnlyList<DiscoveredBackend> backends, ILoadStrategy? strategy)
    {
        lock (_writeLock)
        {
            var previous = _backends;
            var next = new BackendState[backends.Count];
            var i = 0;
            var hostOverrides = false;
            foreach (var backend in backends)
            {
                var existing = Array.Find(previous, b => string.Equals(b.Id, backend.Id, StringComparison.OrdinalIgnoreCase)
                    && b.Address == backend.Address
                    && string.Equals(b.Host, backend.Host, StringComparison.OrdinalIgnoreCase));
                hostOverrides |= backend.Host is not null;
                if (existing is not null)
                {
                    existing.Weight = backend.Weight;
                    next[i++] = existing;
                }
                else
                {
                    var created = new BackendState(backend.Id, backend.Address, backend.Weight) { Host = backend.Host };
                    created.HealthChanged += OnBackendHealthChanged;
                    created.EjectionChanged += OnBackendEjectionChanged;
                    next[i++] = created;
                }
            }

            foreach (var old in previous)
            {
                if (Array.IndexOf(next, old) < 0)
                {
                    old.HealthChanged -= OnBackendHealthChanged;
                    old.EjectionChanged -= OnBackendEjectionChanged;
                }
            }

            HasHostOverrides = hostOverrides;
            RequestVersion = Configuration.LoadBalancerOptionsValidator.TryParseHttpVersion(options.HttpVersion, out var version)
                ? version
                : System.Net.HttpVersion.Version20;
            Retry = Forwarding.RetryPolicy.Create(options.Retry, _timeProvider);
            _options = options;
            _weights.SetWindow(options.SlowStart);
            if (strategy is not null)
            {
                _strategy = strategy;
            }

            _backends = next;
            UpdateBreakers(next, Passive.PassiveHealth.OptionsOf(options));
            RefreshAvailable();
            (_strategy as Strategies.IPoolAwareStrategy)?.PoolUpdated(this);
        }
    }

    /// <summary>
    /// Gets a value indicating whether some backend carries a <see cref="BackendState.Host"/> of its own, so each attempt
    /// sets (or clears) the <c>Host</c> header; pools of static backends pay one flag read.
    /// </summary>
    public bool HasHostOverrides { get; private set; }

    /// <summary>Gets the current time, for health-change timestamps.</summary>
    public DateTimeOffset Now => _timeProvider.GetUtcNow();

    private void OnBackendEjectionChanged(object? sender, EventArgs e)
    {
        lock (_writeLock)
        {
            RefreshAvailable();
        }
    }

    private void OnBackendHealthChanged(object? sender, BackendHealthChangedEventArgs e)
    {
        lock (_writeLock)
        {
            RefreshAvailable();
        }
    }

    private void RefreshAvailable()
    {
        TrackService();
        var all = _backends;
        var count = 0;
        var eligible = 0;
        foreach (var backend in all)
        {
            if (backend.Weight > 0)
            {
                eligible++;
            }

            if (backend.IsAvailable)
            {
                count++;
            }
        }

        if (count == all.Length)
        {
            IsPanicking = false;
            _available = all;
            _weights.Publish(all);
            return;
        }

        // Panic (Envoy's rule): when fewer than the threshold's share of the pool is healthy, the health signal
        // itself is more likely wrong than most backends dead, so traffic spreads over every backend with weight.
        var health = _options.HealthCheck;
        IsPanicking = health.WhenTooFewHealthy == TooFewHealthyPolicy.SpreadOverAll
            && eligible > 0
            && count < health.PanicThreshold * eligible;
        var available = new BackendState[IsPanicking ? eligible : count];
        var i = 0;
        foreach (var backend in all)
        {
            if (IsPanicking ? backend.Weight > 0 : backend.IsAvailable)
            {
                available[i++] = backend;
            }
        }

        _available = available;
        _weights.Publish(available);
    }

    /// <summary>Gets the weights the pool's weighted strategies read: slow-start ramps and the change version.</summary>
    public Strategies.EffectiveWeights Weights => _weights;

    /// <summary>
    /// Notes the backends that entered service since the last refresh (joined on a reload, turned healthy again, were
    /// readmitted after an ejection, got a weight again), which starts their slow-start ramp before any request can see
    /// them in a new snapshot. The backends of the pool's first configuration do not ramp: they all start together.
    /// </summary>
    private void TrackService()
    {
        var previous = _inService;
        var current = new HashSet<BackendState>();
        DateTimeOffset? now = null;
        foreach (var backend in _backends)
        {
            if (!backend.IsAvailable)
            {
                continue;
            }

            current.Add(backend);
            if (previous is not null && !previous.Contains(backend))
            {
                now ??= _timeProvider.GetUtcNow();
                _weights.EnteredService(backend, now.Value);
            }
        }

        _inService = current;
    }

    /// <summary>Gets the instruments that the pool's requests, attempts and breakers record to, if any.</summary>
    public Diagnostics.BalancingMetrics? Metrics { get; init; }

    /// <summary>Gets a value indicating whether the pool is in panic: too few healthy backends, traffic spread over all.</summary>
    public bool IsPanicking { get; private set; }
}
