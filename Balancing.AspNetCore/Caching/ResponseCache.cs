using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using BalancingMetrics = Balancing.Diagnostics.BalancingMetrics;

namespace Balancing.AspNetCore.Caching;

/// <summary>
/// The store of the response cache, on <see cref="MemoryCache"/> with a size limit in bytes, plus the requests in flight
/// that concurrent misses for the same key wait for (request coalescing).
/// </summary>
/// <remarks>
/// <para>
/// Each URL has a base key (pool, host, request target). A response without <c>Vary</c> is stored under it; one with
/// <c>Vary</c> stores a <see cref="VaryRule"/> there, and itself under the base key plus the request's values of the
/// headers it names, so each variant has its own entry.
/// </para>
/// <para>
/// Eviction is least-recently-used: <see cref="MemoryCache"/> stamps an entry's <c>LastAccessed</c> on every read and
/// compacts by priority (all entries here have the same), then oldest access first. Left alone it refuses an entry that
/// does not fit and compacts on a background thread; the store instead compacts first, synchronously, so the new entry
/// fits and the evicted ones are the least recently used.
/// </para>
/// </remarks>
internal sealed class ResponseCache : IDisposable
{
    private readonly ConcurrentDictionary<string, CacheFlight> _flights = new(StringComparer.Ordinal);
    private readonly Lock _createLock = new();
    private readonly ISecondLevelCache? _secondLevel;
    private volatile Store? _store;
    private int _waiters;

    public ResponseCache(BalancingMetrics metrics, ISecondLevelCache? secondLevel = null)
    {
        _secondLevel = secondLevel;
        metrics.ObserveCacheSize(() => _store?.Size ?? 0);
        if (secondLevel is not null)
        {
            // Another instance purged: what this one holds in memory for those URLs goes too.
            secondLevel.Purged += prefix => Purge(prefix);
        }
    }

    /// <summary>Gets the estimated bytes held now.</summary>
    public long Size => _store?.Size ?? 0;

    /// <summary>Gets the number of requests waiting for an identical one in flight.</summary>
    public int Waiters => Volatile.Read(ref _waiters);

    /// <summary>Gets the number of entries (responses, vary rules and marks of URLs not stored) held now.</summary>
    public int Count => _store?.Cache.Count ?? 0;

    /// <summary>
    /// Whether requests to <paramref name="route"/> use the cache: the route's own <c>Caching</c>, else
    /// <c>Caching:DefaultEnabledForRoutes</c>. Called only once <c>Caching:Enabled</c> is known to be on.
    /// </summary>
    public static bool AppliesTo(LoadBalancerOptions options, string? route)
        => (route is not null && options.Routes.TryGetValue(route, out var routeOptions) ? routeOptions.Caching : null)
            ?? options.Caching.DefaultEnabledForRoutes;

    /// <summary>The base key of a request: pool, host (case-insensitive) and the request target as sent.</summary>
    public static string BaseKey(string pool, HttpRequest request, string pathAndQuery)
    {
        var host = request.Host.Value;

        // Host names arrive in lower case almost always: lower-casing only when needed saves a string per request.
        if (host is not null && host.AsSpan().ContainsAnyInRange('A', 'Z'))
        {
            host = host.ToLowerInvariant();
        }

        return string.Concat(pool, "\n", host, "\n", pathAndQuery);
    }

    /// <summary>Finds the stored response for a request, following its URL's vary rule to the right variant.</summary>
    public CachedResponse? Find(CachingOptions options, string baseKey, IHeaderDictionary requestHeaders)
    {
        var cache = StoreFor(options).Cache;
        if (!cache.TryGetValue(baseKey, out var value))
        {
            return null;
        }

        if (value is VaryRule rule)
        {
            return cache.TryGetValue(CachePolicy.VariantKey(baseKey, rule.Headers, requestHeaders), out var variant) ? variant as CachedResponse : null;
        }

        return value as CachedResponse;
    }

    /// <summary>
    /// Finds the stored response for a request in memory, then, when memory has nothing for the URL, in the second-level
    /// store shared with other instances; a response found there is kept in memory too. Completes synchronously without a
    /// second level or on a memory hit.
    /// </summary>
    public ValueTask<CachedResponse?> FindAsync(CachingOptions options, string baseKey, IHeaderDictionary requestHeaders, CancellationToken cancellationToken)
    {
        var found = Find(options, baseKey, requestHeaders);

        // Memory that knows the URL (a vary rule, or the mark of a response not stored) answers for it: the second level
        // holds only responses without Vary, and asking it for every request to an uncacheable URL would cost a round trip.
        return found is not null || _secondLevel is null || StoreFor(options).Cache.TryGetValue(baseKey, out _)
            ? ValueTask.FromResult(found)
            : FindSharedAsync(options, baseKey, cancellationToken);
    }

    /// <summary>Stores <paramref name="entry"/> (built with <see cref="KeyFor"/>), evicting the least recently used entries when it does not fit.</summary>
    public void Set(CachingOptions options, string baseKey, CachedResponse entry)
    {
        var store = StoreFor(options);
        if (entry.Vary.Length > 0)
        {
            var rule = new VaryRule(entry.Vary);
            store.Add(baseKey, rule, rule.Size);
        }

        store.Add(entry.Key, entry, entry.Size);

        // Responses with Vary stay in this instance: sharing them would need their vary rule shared too.
        if (entry.Vary.Length == 0)
        {
            _secondLevel?.Set(entry);
        }
    }

    /// <summary>How long a URL whose response was not stored skips request coalescing.</summary>
    public static readonly TimeSpan UncacheableFor = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Remembers that <paramref name="baseKey"/>'s response was not stored (not storable, or too large), so that
    /// concurrent requests for it stop queueing behind one another for <see cref="UncacheableFor"/> (Varnish's
    /// "hit-for-miss"). A response stored later replaces the mark.
    /// </summary>
    public void MarkUncacheable(CachingOptions options, string baseKey, DateTimeOffset now)
    {
        var store = StoreFor(options);
        if (store.Cache.TryGetValue(baseKey, out var value)
            && (value is VaryRule || (value is UncacheableMark mark && mark.Until - now > UncacheableFor / 2)))
        {
            // Other variants of the URL are stored: they stay reachable, and their requests keep coalescing. Or the URL
            // is marked already: renewing the mark on every request would cost a cache write each; it is renewed once
            // half its time has passed.
            return;
        }

        store.Add(baseKey, new UncacheableMark(now + UncacheableFor), UncacheableMark.SizeOf(baseKey));
    }

    /// <summary>Whether <paramref name="baseKey"/> was marked by <see cref="MarkUncacheable"/> less than a minute ago.</summary>
    public bool IsUncacheable(CachingOptions options, string baseKey, DateTimeOffset now)
        => StoreFor(options).Cache.TryGetValue(baseKey, out var value) && value is UncacheableMark mark && mark.Until > now;

    /// <summary>The key a response to this request is stored under: the base key, plus the variant for a response with <c>Vary</c>.</summary>
    public static string KeyFor(string baseKey, string[] vary, IHeaderDictionary requestHeaders)
        => vary.Length == 0 ? baseKey : CachePolicy.VariantKey(baseKey, vary, requestHeaders);

    /// <summary>Drops what is stored for a URL (all its variants stay unreachable: their vary rule goes).</summary>
    public void Remove(string baseKey)
    {
        _store?.Cache.Remove(baseKey);
        _secondLevel?.Remove(baseKey);
    }

    /// <summary>Removes every entry, or those whose request target starts with <paramref name="pathPrefix"/>; returns how many.</summary>
    public int Purge(string? pathPrefix)
    {
        if (_store is not { } store)
        {
            return 0;
        }

        if (string.IsNullOrEmpty(pathPrefix))
        {
            var count = store.Cache.Count;
            store.Cache.Clear();
            return count;
        }

        var removed = 0;
        foreach (var key in store.Cache.Keys.ToArray())
        {
            // pool \n host \n target [\n variant...]
            if (key is string text && TargetOf(text).StartsWith(pathPrefix, StringComparison.Ordinal))
            {
                store.Cache.Remove(text);
                removed++;
            }
        }

        return removed;
    }

    /// <summary>
    /// Purges this instance's memory (<see cref="Purge"/>) and, with a second level, the shared store and the other
    /// instances' memory. Returns the entries removed here, and those removed from the shared store (<see langword="null"/>
    /// without a second level, or when it cannot be reached).
    /// </summary>
    public async Task<(int Removed, long? SharedRemoved)> PurgeEverywhereAsync(string? pathPrefix, CancellationToken cancellationToken)
    {
        var removed = Purge(pathPrefix);
        var shared = _secondLevel is null ? null : await _secondLevel.PurgeAsync(pathPrefix, cancellationToken).ConfigureAwait(false);
        return (removed, shared);
    }

    /// <summary>
    /// Joins the request in flight for <paramref name="key"/>, or starts one: returns <see langword="true"/> when the caller
    /// leads (it sends to the backend and must <see cref="CacheFlight.Complete"/> the flight), false when it should wait.
    /// </summary>
    public bool TryLead(string key, out CacheFlight flight)
    {
        var created = new CacheFlight(this, key);
        flight = _flights.GetOrAdd(key, created);
        return ReferenceEquals(flight, created);
    }

    /// <summary>Waits for the flight's response, or for <paramref name="cancellationToken"/> (the waiting client leaving).</summary>
    public async Task<CachedResponse?> WaitAsync(CacheFlight flight, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _waiters);
        try
        {
            return await flight.Result.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _waiters);
        }
    }

    public void Dispose() => _store?.Cache.Dispose();

    internal void EndFlight(CacheFlight flight) => _flights.TryRemove(new KeyValuePair<string, CacheFlight>(flight.Key, flight));

    private async ValueTask<CachedResponse?> FindSharedAsync(CachingOptions options, string baseKey, CancellationToken cancellationToken)
    {
        var shared = await _secondLevel!.GetAsync(baseKey, cancellationToken).ConfigureAwait(false);
        if (shared is null || shared.Vary.Length > 0 || shared.Key != baseKey)
        {
            return null;
        }

        StoreFor(options).Add(baseKey, shared, shared.Size);
        return shared;
    }

    /// <summary>The request target of a key (<c>pool \n host \n target [\n variant...]</c>).</summary>
    internal static ReadOnlySpan<char> TargetOf(string key)
    {
        var span = key.AsSpan();
        var first = span.IndexOf('\n');
        span = span[(first + 1)..];
        var second = span.IndexOf('\n');
        span = span[(second + 1)..];
        var end = span.IndexOf('\n');
        return end < 0 ? span : span[..end];
    }

    private Store StoreFor(CachingOptions options)
    {
        var store = _store;
        if (store is not null && store.SizeLimit == options.SizeLimit)
        {
            return store;
        }

        lock (_createLock)
        {
            store = _store;
            if (store is null || store.SizeLimit != options.SizeLimit)
            {
                // A new size limit (a reload) starts an empty store; the old one is dropped, not disposed, because
                // requests still running may be reading it.
                store?.Cache.Clear();
                store = new Store(options.SizeLimit);
                _store = store;
            }

            return store;
        }
    }

    /// <summary>A size-limited <see cref="MemoryCache"/> that makes room by LRU before adding.</summary>
    private sealed class Store
    {
        public Store(long sizeLimit)
        {
            SizeLimit = sizeLimit;
            Cache = new MemoryCache(Options.Create(new MemoryCacheOptions { SizeLimit = sizeLimit, TrackStatistics = true }));
        }

        public long SizeLimit { get; }

        public MemoryCache Cache { get; }

        public long Size => Cache.GetCurrentStatistics()?.CurrentEstimatedSize ?? 0;

        public void Add(string key, object value, long size)
        {
            if (size > SizeLimit)
            {
                return;
            }

            MakeRoom(size);
            using var entry = Cache.CreateEntry(key);
            entry.Value = value;
            entry.Size = size;
        }

        /// <summary>
        /// Evicts least recently used entries until <paramref name="size"/> more bytes fit, and one percent of the limit
        /// more, so that a full cache does not compact on every store.
        /// </summary>
        private void MakeRoom(long size)
        {
            for (var attempt = 0; attempt < 8; attempt++)
            {
                var statistics = Cache.GetCurrentStatistics();
                var current = statistics?.CurrentEstimatedSize ?? 0;
                var count = statistics?.CurrentEntryCount ?? 0;
                var excess = current + size - SizeLimit;
                if (excess <= 0 || count == 0)
                {
                    return;
                }

                // MemoryCache.Compact counts entries, not bytes: estimate how many of the average size free enough.
                var wanted = excess + (SizeLimit / 100);
                var average = Math.Max(1, current / count);
                var entries = Math.Min(count, Math.Max(1, (wanted + average - 1) / average) << attempt);
                Cache.Compact((entries + 0.5) / count);
            }
        }
    }
}

/// <summary>Stored under a base key whose last response was not stored: its requests are not coalesced until <see cref="Until"/>.</summary>
internal sealed class UncacheableMark(DateTimeOffset until)
{
    public DateTimeOffset Until { get; } = until;

    /// <summary>The key's characters and the object, roughly.</summary>
    public static long SizeOf(string baseKey) => (baseKey.Length * 2) + 64;
}

/// <summary>What a URL's responses vary on: stored under the base key so a lookup knows which variant key to read.</summary>
internal sealed class VaryRule
{
    public VaryRule(string[] headers)
    {
        Headers = headers;
        Size = 128 + headers.Sum(h => h.Length * 2L);
    }

    public string[] Headers { get; }

    public long Size { get; }
}

/// <summary>A request on its way to a backend that identical requests wait for instead of sending their own.</summary>
internal sealed class CacheFlight
{
    private readonly ResponseCache _cache;
    private readonly TaskCompletionSource<CachedResponse?> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public CacheFlight(ResponseCache cache, string key)
    {
        _cache = cache;
        Key = key;
    }

    public string Key { get; }

    /// <summary>Gets the stored response the leader got, or <see langword="null"/> when it got nothing storable.</summary>
    public Task<CachedResponse?> Result => _result.Task;

    /// <summary>Ends the flight: later requests look in the store again, and the waiters get <paramref name="stored"/>.</summary>
    public void Complete(CachedResponse? stored)
    {
        _cache.EndFlight(this);
        _result.TrySetResult(stored);
    }
}
