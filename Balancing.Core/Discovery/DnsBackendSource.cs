using System.Net;
using System.Net.Sockets;
using Balancing.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Balancing.Discovery;

/// <summary>
/// The built-in <see cref="IBackendSource"/>: each configured backend whose <see cref="BackendOptions.Discovery"/> is
/// <see cref="BackendDiscovery.Dns"/> is resolved to all its addresses, again every
/// <see cref="DnsDiscoveryOptions.RefreshInterval"/>, and each address becomes a backend named <c>{id}/{ip}:{port}</c>
/// that is reached by IP but keeps the name as its <c>Host</c>. A failed resolution keeps the last known addresses.
/// </summary>
internal sealed class DnsBackendSource : IBackendSource, IConfigurationAwareBackendSource, IDisposable
{
    private readonly IDnsResolver _resolver;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private Dictionary<string, DnsTarget> _targets = new(StringComparer.OrdinalIgnoreCase);
    private CancellationTokenSource _changed = new();
    private bool _disposed;

    public DnsBackendSource(IDnsResolver resolver, TimeProvider timeProvider, ILogger<DnsBackendSource> logger)
    {
        _resolver = resolver;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    public BackendSnapshot GetSnapshot()
    {
        lock (_lock)
        {
            var pools = new Dictionary<string, IReadOnlyList<DiscoveredBackend>>(StringComparer.OrdinalIgnoreCase);
            foreach (var target in _targets.Values)
            {
                var backends = pools.TryGetValue(target.Pool, out var list) ? (List<DiscoveredBackend>)list : [];
                target.AddBackends(backends);
                pools[target.Pool] = backends;
            }

            return new BackendSnapshot(pools, new CancellationChangeToken(_changed.Token));
        }
    }

    public void ConfigurationApplied(LoadBalancerOptions options)
    {
        var started = new List<DnsTarget>();
        var stopped = new List<DnsTarget>();
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var next = new Dictionary<string, DnsTarget>(StringComparer.OrdinalIgnoreCase);
            foreach (var (poolName, pool) in options.Pools)
            {
                foreach (var (id, backend) in pool.Backends)
                {
                    if (backend.Discovery != BackendDiscovery.Dns)
                    {
                        continue;
                    }

                    var key = string.Concat(poolName, "\0", id);
                    var address = new Uri(backend.Address, UriKind.Absolute);
                    if (_targets.TryGetValue(key, out var existing) && existing.Resolves(address, pool.Dns))
                    {
                        // Same name, family and pace: its known addresses stay, only the weight may change.
                        existing.Weight = backend.Weight;
                        next[key] = existing;
                    }
                    else
                    {
                        var target = new DnsTarget(this, poolName, id, address, backend.Weight, pool.Dns);
                        if (existing is not null && string.Equals(existing.HostName, target.HostName, StringComparison.OrdinalIgnoreCase))
                        {
                            // Same name, other port, path, family or pace: its known addresses serve until the new lookup answers.
                            target.Addresses = Normalize(existing.Addresses, target.Family);
                        }

                        next[key] = target;
                        started.Add(target);
                    }
                }
            }

            foreach (var (key, target) in _targets)
            {
                if (!next.TryGetValue(key, out var kept) || !ReferenceEquals(kept, target))
                {
                    stopped.Add(target);
                }
            }

            _targets = next;
        }

        foreach (var target in stopped)
        {
            target.Dispose();
        }

        foreach (var target in started)
        {
            target.Start();
        }
    }

    /// <summary>Completes when every name configured now has had its first answer (or failure) applied.</summary>
    public Task WhenResolvedAsync(CancellationToken cancellationToken)
    {
        Task[] pending;
        lock (_lock)
        {
            pending = [.. _targets.Values.Select(t => t.FirstResolution.Task)];
        }

        return Task.WhenAll(pending).WaitAsync(cancellationToken);
    }

    public void Dispose()
    {
        List<DnsTarget> targets;
        lock (_lock)
        {
            _disposed = true;
            targets = [.. _targets.Values];
            _targets = new(StringComparer.OrdinalIgnoreCase);
        }

        foreach (var target in targets)
        {
            target.Dispose();
        }

        _changed.Dispose();
    }

    /// <summary>Records the outcome of one resolution, logs the start and end of failure streaks, and signals a change.</summary>
    private void OnResolved(DnsTarget target, IPAddress[]? found, Exception? error)
    {
        CancellationTokenSource? fired = null;
        lock (_lock)
        {
            if (target.Stopped)
            {
                return;
            }

            if (error is not null)
            {
                // Last known addresses stay: a DNS outage should not empty a pool whose backends are fine.
                if (!target.Failing)
                {
                    target.Failing = true;
                    Log.DnsResolutionFailed(_logger, target.HostName, target.Id, target.Pool, target.Addresses.Length, error);
                }

                return;
            }

            var addresses = Normalize(found ?? [], target.Family);
            if (target.Failing)
            {
                target.Failing = false;
                Log.DnsResolutionRecovered(_logger, target.HostName, target.Id, target.Pool, addresses.Length);
            }

            if (addresses.Length == 0 && !target.Empty)
            {
                Log.DnsNoAddresses(_logger, target.HostName, target.Id, target.Pool, target.Family);
            }

            target.Empty = addresses.Length == 0;
            if (!addresses.AsSpan().SequenceEqual(target.Addresses))
            {
                target.Addresses = addresses;
                fired = _changed;
                _changed = new CancellationTokenSource();
            }
        }

        // Outside the lock: the registry reads the new snapshot from this callback.
        fired?.Cancel();
        fired?.Dispose();
    }

    /// <summary>The addresses of the requested family, without duplicates, in a stable order (so a reordered answer is no change).</summary>
    private static IPAddress[] Normalize(IPAddress[] found, DnsAddressFamily family)
    {
        var kept = new List<IPAddress>(found.Length);
        foreach (var address in found)
        {
            var wanted = family switch
            {
                DnsAddressFamily.IPv4 => address.AddressFamily == AddressFamily.InterNetwork,
                DnsAddressFamily.IPv6 => address.AddressFamily == AddressFamily.InterNetworkV6,
                _ => address.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6,
            };
            if (wanted && !kept.Contains(address))
            {
                kept.Add(address);
            }
        }

        kept.Sort(static (a, b) =>
        {
            var byFamily = a.AddressFamily.CompareTo(b.AddressFamily);
            return byFamily != 0 ? byFamily : a.GetAddressBytes().AsSpan().SequenceCompareTo(b.GetAddressBytes());
        });
        return [.. kept];
    }

    /// <summary>One configured backend entry resolved by DNS, with its refresh timer and last known addresses.</summary>
    private sealed class DnsTarget : IDisposable
    {
        private readonly DnsBackendSource _owner;
        private readonly Uri _address;
        private readonly TimeSpan _interval;
        private readonly string _hostHeader;
        private readonly CancellationTokenSource _stop = new();
        private ITimer? _timer;
        private int _resolving;
        private volatile int _weight;

        public DnsTarget(DnsBackendSource owner, string pool, string id, Uri address, int weight, DnsDiscoveryOptions options)
        {
            _owner = owner;
            Pool = pool;
            Id = id;
            _address = address;
            _weight = weight;
            _interval = options.RefreshInterval;
            Family = options.AddressFamily;
            HostName = address.IdnHost;

            // The Host header must be ASCII: the punycode form of the name, with the port unless it is the scheme's.
            var host = address.HostNameType == UriHostNameType.Dns ? address.IdnHost : address.Host;
            _hostHeader = address.IsDefaultPort ? host : string.Concat(host, ":", address.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        public string Pool { get; }

        public string Id { get; }

        public string HostName { get; }

        public DnsAddressFamily Family { get; }

        public int Weight
        {
            get => _weight;
            set => _weight = value;
        }

        // The fields below are read and written under the owner's lock.
        public IPAddress[] Addresses { get; set; } = [];

        public bool Failing { get; set; }

        public bool Empty { get; set; }

        public bool Stopped { get; private set; }

        public TaskCompletionSource FirstResolution { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Resolves(Uri address, DnsDiscoveryOptions options)
            => _address == address && Family == options.AddressFamily && _interval == options.RefreshInterval;

        /// <summary>One backend per address: reached by IP, named <c>{id}/{ip}:{port}</c>, with the configured name as its host.</summary>
        public void AddBackends(List<DiscoveredBackend> backends)
        {
            foreach (var ip in Addresses)
            {
                var address = new UriBuilder(_address) { Host = ip.ToString() }.Uri;
                var id = string.Concat(Id, "/", new IPEndPoint(ip, _address.Port).ToString());
                backends.Add(new DiscoveredBackend(id, address, Weight, _hostHeader));
            }
        }

        public void Start()
        {
            _timer = _owner._timeProvider.CreateTimer(static state => ((DnsTarget)state!).Refresh(), this, _interval, _interval);
            _ = Task.Run(Refresh);
        }

        public void Dispose()
        {
            lock (_owner._lock)
            {
                Stopped = true;
            }

            _timer?.Dispose();
            FirstResolution.TrySetResult();
            _stop.Cancel();
            _stop.Dispose();
        }

        private void Refresh() => _ = RefreshAsync();

        private async Task RefreshAsync()
        {
            // A lookup slower than the interval is not stacked with another.
            if (Interlocked.Exchange(ref _resolving, 1) != 0)
            {
                return;
            }

            IPAddress[]? found = null;
            Exception? error = null;
            try
            {
                try
                {
                    var family = Family switch
                    {
                        DnsAddressFamily.IPv4 => AddressFamily.InterNetwork,
                        DnsAddressFamily.IPv6 => AddressFamily.InterNetworkV6,
                        _ => AddressFamily.Unspecified,
                    };
                    found = await _owner._resolver.ResolveAsync(HostName, family, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (_stop.IsCancellationRequested)
                {
                    return;
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
#pragma warning disable CA1031 // Any failure of the lookup is logged and survived: the last known addresses keep serving.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    error = ex;
                }
            }
            finally
            {
                // Cleared before the outcome is applied, so a tick that follows the change is never skipped.
                Volatile.Write(ref _resolving, 0);
            }

            _owner.OnResolved(this, found, error);
            FirstResolution.TrySetResult();
        }
    }
}
