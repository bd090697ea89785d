using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using Balancing.Configuration;
using Balancing.Diagnostics;
using Balancing.Strategies;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Balancing.Pools;

/// <summary>
/// Owns the pools and keeps them in step with configuration. Each change is bound, validated as a whole
/// and applied atomically; an invalid change is logged and the previous configuration keeps serving.
/// </summary>
internal sealed class ServerPoolRegistry : IServerPoolRegistry, IDisposable
{
    private readonly IOptionsFactory<LoadBalancerOptions> _optionsFactory;
    private readonly LoadBalancerConfigurationSource _source;
    private readonly LoadStrategyRegistry _strategies;
    private readonly LoadBalancerOptionsValidator _validator;
    private readonly IServiceProvider _services;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Lock _applyLock = new();
    private readonly HashSet<string> _mountedPools = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<IDisposable> _changeSubscriptions = [];
    private readonly IBackendSource[] _sources;
    private readonly Dictionary<string, DiscoveredBackend[]>?[] _discovered;
    private readonly BackendSnapshot?[] _snapshots;
    private readonly IDisposable?[] _sourceWatches;
    private volatile bool _disposed;
    private volatile FrozenDictionary<string, ServerPool> _pools = FrozenDictionary<string, ServerPool>.Empty;
    private volatile LoadBalancerOptions _options;
    private string? _appliedFingerprint;

    public ServerPoolRegistry(
        IOptionsFactory<LoadBalancerOptions> optionsFactory,
        IEnumerable<IOptionsChangeTokenSource<LoadBalancerOptions>> changeTokenSources,
        LoadBalancerConfigurationSource source,
        LoadStrategyRegistry strategies,
        IServiceProvider services,
        TimeProvider timeProvider,
        ILogger<ServerPoolRegistry> logger)
    {
        _optionsFactory = optionsFactory;
        _source = source;
        _strategies = strategies;
        _validator = new LoadBalancerOptionsValidator(
            strategies,
            services.GetService(typeof(Health.HealthProbeRegistry)) as Health.HealthProbeRegistry,
            services.GetService(typeof(IEnumerable<ILoadBalancerOptionsRule>)) as IEnumerable<ILoadBalancerOptionsRule>);
        _services = services;
        _timeProvider = timeProvider;
        _logger = logger;
        Metrics = services.GetService(typeof(BalancingMetrics)) as BalancingMetrics;
        _sources = (services.GetService(typeof(IEnumerable<IBackendSource>)) as IEnumerable<IBackendSource>)?.ToArray() ?? [];
        _discovered = new Dictionary<string, DiscoveredBackend[]>?[_sources.Length];
        _snapshots = new BackendSnapshot?[_sources.Length];
        _sourceWatches = new IDisposable?[_sources.Length];

        // Start-up: an invalid configuration is fatal, with every problem listed by key.
        var options = Build(out var errors);
        if (options is null || errors.Count > 0)
        {
            throw new OptionsValidationException(Microsoft.Extensions.Options.Options.DefaultName, typeof(LoadBalancerOptions), errors);
        }

        _options = options;
        lock (_applyLock)
        {
            Apply(options);
        }

        _appliedFingerprint = Fingerprint();
        LogApplied();
        Metrics?.Observe(this);

        for (var i = 0; i < _sources.Length; i++)
        {
            Watch(i);
        }

        foreach (var tokenSource in changeTokenSources)
        {
            if (tokenSource.Name is null || tokenSource.Name == Microsoft.Extensions.Options.Options.DefaultName)
            {
                _changeSubscriptions.Add(ChangeToken.OnChange(tokenSource.GetChangeToken, Reload));
            }
        }
    }

    /// <summary>Raised after a configuration change was applied or rejected.</summary>
    public event EventHandler<ConfigurationChangeResult>? ConfigurationChanged;

    /// <summary>Raised after a backend source's change was applied, with the names of the pools whose backends changed.</summary>
    public event EventHandler<IReadOnlyCollection<string>>? BackendsChanged;

    /// <summary>Gets the balancer's instruments, or <see langword="null"/> when the registry was built without them.</summary>
    public BalancingMetrics? Metrics { get; }

    /// <summary>Gets the configuration currently in force.</summary>
    public LoadBalancerOptions Options => _options;

    public IReadOnlyCollection<IServerPool> Pools => _pools.Values;

    public bool TryGetPool(string name, [NotNullWhen(true)] out IServerPool? pool)
    {
        if (_pools.TryGetValue(name, out var found))
        {
            pool = found;
            return true;
        }

        pool = null;
        return false;
    }

    /// <summary>Gets a pool by name as the engine's own type.</summary>
    public ServerPool? GetPool(string name) => _pools.GetValueOrDefault(name);

    /// <summary>
    /// Records that the app forwards to <paramref name="poolName"/>, and fails now if that pool is
    /// missing or empty. Later reloads that would empty or remove it are rejected.
    /// </summary>
    public void Mount(string poolName)
    {
        lock (_applyLock)
        {
            var errors = _validator.Validate(_options, SectionPath, [poolName], IsFedBySource);
            if (errors.Count > 0)
            {
                throw new OptionsValidationException(Microsoft.Extensions.Options.Options.DefaultName, typeof(LoadBalancerOptions), errors);
            }

            _mountedPools.Add(poolName);
        }
    }

    /// <summary>Binds, validates and applies the configuration as it is now. Called on every change.</summary>
    public void Reload()
    {
        LoadBalancerOptions? options;
        List<string> errors;
        lock (_applyLock)
        {
            // The token fires for any change of the app's configuration; only a change of this section matters.
            var fingerprint = Fingerprint();
            if (fingerprint is not null && fingerprint == _appliedFingerprint)
            {
                return;
            }

            var previousConnections = _options.Connections;
            options = Build(out errors);
            if (options is not null && errors.Count == 0)
            {
                // Pools first: whoever sees the new options (the front door's routes) finds the pools they name.
                Apply(options);
                _options = options;
                _appliedFingerprint = fingerprint;
                if (!SameConnections(previousConnections, options.Connections))
                {
                    Log.ConnectionSettingsNeedRestart(_logger);
                }
            }
        }

        if (options is not null && errors.Count == 0)
        {
            LogApplied();
            ConfigurationChanged?.Invoke(this, new ConfigurationChangeResult(true, []));
        }
        else
        {
            var joined = string.Join("; ", errors);
            Log.ConfigurationRejected(_logger, joined);
            ConfigurationChanged?.Invoke(this, new ConfigurationChangeResult(false, errors));
        }
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (var subscription in _changeSubscriptions)
        {
            subscription.Dispose();
        }

        foreach (var watch in _sourceWatches)
        {
            watch?.Dispose();
        }
    }

    private string SectionPath => LoadBalancerConfigurationSource.PathOf(_source.Resolve(_services));

    private LoadBalancerOptions? Build(out List<string> errors)
    {
        errors = [];
        var section = _source.Resolve(_services);
        var path = LoadBalancerConfigurationSource.PathOf(section);
        if (section is not null)
        {
            var badValues = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            ConfigurationKeyValidator.FindUnknownKeys(section, typeof(LoadBalancerOptions), path, errors, badValues);
            if (badValues.Count > 0)
            {
                // The binder would throw on the first of these values or silently drop the entry holding it, hiding
                // every other problem. Validate the rest without them, so that all errors are reported at once.
                var partial = BindWithout(section, path, badValues);
                errors.AddRange(_validator.Validate(partial, path, _mountedPools, IsFedBySource));
                return null;
            }
        }

        LoadBalancerOptions options;
        try
        {
            options = _optionsFactory.Create(Microsoft.Extensions.Options.Options.DefaultName);
        }
        catch (OptionsValidationException ex)
        {
            errors.AddRange(ex.Failures);
            return null;
        }
        catch (InvalidOperationException ex)
        {
            // The binder's conversion errors name the key: "Failed to convert configuration value at '...'".
            errors.Add(ex.Message);
            return null;
        }

        errors.AddRange(_validator.Validate(options, path, _mountedPools, IsFedBySource));
        return options;
    }

    private void LogApplied()
    {
        var pools = _pools;
        var backendCount = pools.Values.Sum(p => p.Backends.Length);
        Log.ConfigurationApplied(_logger, pools.Count, backendCount);
    }

    /// <summary>The section's keys and values, or <see langword="null"/> when configuration comes from code only.</summary>
    private string? Fingerprint()
    {
        var section = _source.Resolve(_services);
        if (section is null)
        {
            return null;
        }

        var builder = new System.Text.StringBuilder();
        foreach (var (key, value) in section.AsEnumerable().OrderBy(p => p.Key, StringComparer.OrdinalIgnoreCase))
        {
            builder.Append(key).Append('=').Append(value).Append('\n');
        }

        return builder.ToString();
    }

    private static bool SameConnections(BackendConnectionOptions a, BackendConnectionOptions b)
        => a.ConnectTimeout == b.ConnectTimeout
        && a.PooledConnectionIdleTimeout == b.PooledConnectionIdleTimeout
        && a.PooledConnectionLifetime == b.PooledConnectionLifetime
        && a.MaxConnectionsPerServer == b.MaxConnectionsPerServer;

    private static LoadBalancerOptions BindWithout(IConfiguration section, string path, HashSet<string> badValues)
    {
        var kept = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in section.AsEnumerable(makePathsRelative: true))
        {
            var full = $"{path}:{key}";
            if (value is not null && !badValues.Any(bad => full.Equals(bad, StringComparison.OrdinalIgnoreCase)
                || full.StartsWith(bad + ":", StringComparison.OrdinalIgnoreCase)))
            {
                kept[key] = value;
            }
        }

        var options = new LoadBalancerOptions();
        new ConfigurationBuilder().AddInMemoryCollection(kept).Build().Bind(options);
        return options;
    }

    /// <summary>Applies a configuration: tells the backend sources that follow it, reads every source, updates the pools. Under the lock.</summary>
    private void Apply(LoadBalancerOptions options)
    {
        for (var i = 0; i < _sources.Length; i++)
        {
            (_sources[i] as Discovery.IConfigurationAwareBackendSource)?.ConfigurationApplied(options);
            TakeSnapshot(i);
        }

        var current = _pools;
        var next = new Dictionary<string, ServerPool>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, poolOptions) in options.Pools)
        {
            var backends = BackendsOf(name, poolOptions);
            if (current.TryGetValue(name, out var pool))
            {
                var strategy = string.Equals(pool.Strategy.Name, poolOptions.Strategy, StringComparison.OrdinalIgnoreCase)
                    ? null
                    : _strategies.Create(poolOptions.Strategy, _services);
                pool.Update(poolOptions, backends, strategy);
            }
            else
            {
                pool = new ServerPool(name, poolOptions, _strategies.Create(poolOptions.Strategy, _services), _timeProvider, _logger, backends) { Metrics = Metrics };
            }

            next[name] = pool;
        }

        _pools = next.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Listens to the token of the source's latest snapshot. Unlike <c>ChangeToken.OnChange</c>, which asks for the next
    /// token before its callback runs, this reads the token of the snapshot the callback has just taken.
    /// </summary>
    private void Watch(int index)
    {
        if (_disposed || _snapshots[index]?.ChangeToken is not { } token)
        {
            return;
        }

        // A token that has already fired calls back at once, on this thread, which reads the newer snapshot. Replaced
        // registrations are not disposed: a token fires once, and disposing one whose callback is running elsewhere
        // would wait for it. The latest is kept for Dispose; a callback after Dispose does nothing.
        var registration = token.RegisterChangeCallback(
            static state =>
            {
                var (registry, i) = ((ServerPoolRegistry, int))state!;
                registry.OnSourceChanged(i);
            },
            (this, index));
        Volatile.Write(ref _sourceWatches[index], registration);
    }

    /// <summary>A source signalled a change: read it again, update the pools whose backends differ (each atomically), listen again.</summary>
    private void OnSourceChanged(int index)
    {
        if (_disposed)
        {
            return;
        }

        var changed = new List<string>();
        lock (_applyLock)
        {
            TakeSnapshot(index);
            foreach (var pool in _pools.Values)
            {
                var backends = BackendsOf(pool.Name, pool.Options);
                if (!SameBackends(pool.Backends, backends))
                {
                    // The same path as a configuration reload: surviving backends keep their state.
                    pool.Update(pool.Options, backends, strategy: null);
                    changed.Add(pool.Name);
                }
            }
        }

        if (changed.Count > 0)
        {
            foreach (var name in changed)
            {
                Log.DiscoveredBackendsApplied(_logger, name, _pools.GetValueOrDefault(name)?.Backends.Length ?? 0);
            }

            BackendsChanged?.Invoke(this, changed);
        }

        Watch(index);
    }

    /// <summary>Reads a source's snapshot into a case-insensitive table, dropping (and logging) what cannot be used.</summary>
    private void TakeSnapshot(int index)
    {
        var source = _sources[index];
        BackendSnapshot snapshot;
        try
        {
            snapshot = source.GetSnapshot() ?? throw new InvalidOperationException("GetSnapshot returned null.");
        }
        catch (Exception ex) when (_snapshots[index] is not null)
        {
            // Keep what the source said last, and keep listening to its previous token.
            Log.BackendSourceFailed(_logger, source.GetType().Name, ex);
            return;
        }

        var table = new Dictionary<string, DiscoveredBackend[]>(StringComparer.OrdinalIgnoreCase);
        foreach (var (pool, backends) in snapshot.Pools)
        {
            var kept = new List<DiscoveredBackend>(backends.Count);
            foreach (var backend in backends)
            {
                if (backend is null || string.IsNullOrWhiteSpace(backend.Id) || backend.Weight < 0
                    || !LoadBalancerOptionsValidator.TryParseAddress(backend.Address?.OriginalString ?? string.Empty, out _))
                {
                    Log.DiscoveredBackendIgnored(_logger, source.GetType().Name, pool, backend?.Id, "it needs an id, an absolute http or https address and a weight of 0 or more");
                    continue;
                }

                kept.Add(backend);
            }

            table[pool] = [.. kept];
        }

        _discovered[index] = table;
        _snapshots[index] = snapshot;
    }

    /// <summary>The pool's static backends followed by those the sources discovered for it; the first of an id wins.</summary>
    private List<DiscoveredBackend> BackendsOf(string pool, PoolOptions options)
    {
        var backends = ServerPool.ConfiguredBackends(options);
        if (_sources.Length == 0)
        {
            return backends;
        }

        var ids = new HashSet<string>(backends.Select(b => b.Id), StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < _sources.Length; i++)
        {
            if (_discovered[i]?.GetValueOrDefault(pool) is not { } found)
            {
                continue;
            }

            foreach (var backend in found)
            {
                if (ids.Add(backend.Id))
                {
                    backends.Add(backend);
                }
                else
                {
                    Log.DiscoveredBackendIgnored(_logger, _sources[i].GetType().Name, pool, backend.Id, "another backend of the pool has that id");
                }
            }
        }

        return backends;
    }

    /// <summary>Whether a backend source names the pool: its backends are the source's to supply, so a mounted pool may have none configured.</summary>
    public bool IsFedBySource(string pool) => _discovered.Any(table => table?.ContainsKey(pool) == true);

    private static bool SameBackends(System.Collections.Immutable.ImmutableArray<BackendState> current, List<DiscoveredBackend> next)
    {
        if (current.Length != next.Count)
        {
            return false;
        }

        for (var i = 0; i < next.Count; i++)
        {
            var (have, want) = (current[i], next[i]);
            if (!string.Equals(have.Id, want.Id, StringComparison.OrdinalIgnoreCase) || have.Address != want.Address
                || !string.Equals(have.Host, want.Host, StringComparison.OrdinalIgnoreCase) || have.Weight != want.Weight)
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>The result of applying a configuration change.</summary>
/// <param name="Applied">Whether the change was applied.</param>
/// <param name="Errors">Why it was rejected, by key.</param>
internal sealed record ConfigurationChangeResult(bool Applied, IReadOnlyList<string> Errors);
