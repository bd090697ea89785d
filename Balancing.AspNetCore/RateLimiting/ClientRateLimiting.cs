using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Threading.RateLimiting;
using Balancing.AspNetCore.Forwarding;
using Balancing.Configuration;
using Balancing.Pools;
using Microsoft.AspNetCore.Http;

namespace Balancing.AspNetCore.RateLimiting;

/// <summary>
/// Decides, before any backend is chosen, whether a request's client is within its limit. Called by the forwarder once
/// the route (and so the pool) is known, because the limit may be the route's own.
/// </summary>
/// <remarks>
/// ASP.NET Core's <c>RateLimiterMiddleware</c> picks its policy from endpoint metadata, before <c>UseLoadBalancer()</c>
/// has matched a route, and answers 503 by default; calling the limiters here sees the route, answers 429, and records
/// the refusal with the request's pool. The limiters themselves are <c>System.Threading.RateLimiting</c>'s.
/// </remarks>
internal sealed class ClientRateLimiting : IDisposable
{
    private readonly ServerPoolRegistry _registry;
    private readonly TimeProvider _timeProvider;
    private readonly ISharedRateLimitStore? _shared;
    private readonly Lock _lock = new();
    private volatile RateLimitingState? _state;
    private bool _disposed;

    public ClientRateLimiting(ServerPoolRegistry registry, TimeProvider timeProvider, ISharedRateLimitStore? shared = null)
    {
        _registry = registry;
        _timeProvider = timeProvider;
        _shared = shared;
    }

    /// <summary>Gets the limiters of the configuration in force, built the first time a request sees it.</summary>
    public RateLimitingState Current
    {
        get
        {
            var state = _state;
            var options = _registry.Options;
            return state is not null && ReferenceEquals(state.Source, options) ? state : Refresh(options);
        }
    }

    /// <summary>
    /// Takes a permit for the request's client without waiting, when that decides the request: returns
    /// <see langword="true"/> with <paramref name="lease"/> set as <see cref="AcquireAsync"/> would set it (none when the
    /// request is not limited; a lease acquired or refused otherwise). Returns <see langword="false"/> when only
    /// <see cref="AcquireAsync"/> can decide: the limit has a queue and no permit is free now, the limits are shared
    /// through a store, or a reload retired the limiter just now.
    /// </summary>
    /// <remarks>
    /// A limit without a queue answers the same either way, and nearly every request finds a permit free: this saves
    /// the asynchronous call on the path every request takes.
    /// </remarks>
    public bool TryAcquireNow(HttpContext context, ForwardingSettings settings, string? route, out RateLimitLease? lease)
    {
        lease = null;
        if (_shared is not null)
        {
            return Current.For(route) is null;
        }

        if (!TryFindLimit(context, settings, route, out var limiter, out var key))
        {
            return true;
        }

        RateLimitLease attempt;
        try
        {
            attempt = limiter.AttemptAcquire(key);
        }
        catch (ObjectDisposedException)
        {
            return false;
        }

        if (attempt.IsAcquired || limiter.Policy.QueueLimit == 0)
        {
            lease = attempt;
            return true;
        }

        // Over the limit with room in the queue: waiting there is AcquireAsync's job.
        attempt.Dispose();
        return false;
    }

    /// <summary>
    /// Takes a permit for the request's client under the limit of <paramref name="route"/> (or the global one).
    /// Returns <see langword="null"/> when the request is not limited (rate limiting off, the route exempt, the client in
    /// <c>ExemptNetworks</c>); otherwise a lease, acquired or not, that the caller disposes when the request ends.
    /// </summary>
    public async ValueTask<RateLimitLease?> AcquireAsync(HttpContext context, ForwardingSettings settings, string? route, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (!TryFindLimit(context, settings, route, out var limiter, out var key))
            {
                return null;
            }

            try
            {
                // Completes at once unless the limit has a queue and the client is over it.
                return _shared is null
                    ? await limiter.AcquireAsync(key, 1, cancellationToken).ConfigureAwait(false)
                    : await _shared.AcquireAsync(limiter, key, cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException) when (attempt == 0)
            {
                // A reload retired this limiter between reading the state and using it; the new state has its successor.
            }
        }
    }

    /// <summary>
    /// The limiter of the configuration in force that applies to the request, and the client's partition key in it;
    /// <see langword="false"/> when the request is not limited (no limit for its route, or its client is exempt).
    /// </summary>
    private bool TryFindLimit(HttpContext context, ForwardingSettings settings, string? route, [NotNullWhen(true)] out ClientRateLimiter? limiter, out UInt128 key)
    {
        key = default;
        var state = Current;
        limiter = state.For(route);
        if (limiter is null)
        {
            return false;
        }

        var client = ClientAddress.Resolve(context, settings);
        if (state.IsExempt(client))
        {
            limiter = null;
            return false;
        }

        key = ClientPartitionKey.For(client, state.IPv6PrefixLength);
        return true;
    }

    public void Dispose()
    {
        RateLimitingState? state;
        lock (_lock)
        {
            _disposed = true;
            state = _state;
            _state = null;
        }

        state?.DisposeAll();
    }

    private RateLimitingState Refresh(LoadBalancerOptions options)
    {
        RateLimitingState? retired;
        RateLimitingState created;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var state = _state;
            if (state is not null && ReferenceEquals(state.Source, options))
            {
                return state;
            }

            created = RateLimitingState.Build(options, state, _timeProvider);
            _state = created;
            retired = state;
        }

        retired?.DisposeUnused(created);
        return created;
    }
}

/// <summary>The limiters of one configuration: the global one, each route's, the exempt networks.</summary>
internal sealed class RateLimitingState
{
    private readonly Dictionary<string, ClientRateLimiter?> _routes;
    private readonly IPNetwork[] _exempt;

    private RateLimitingState(LoadBalancerOptions source, ClientRateLimiter? global, Dictionary<string, ClientRateLimiter?> routes, IPNetwork[] exempt, int ipv6PrefixLength)
    {
        Source = source;
        Global = global;
        _routes = routes;
        _exempt = exempt;
        IPv6PrefixLength = ipv6PrefixLength;
        IsActive = global is not null || routes.Values.Any(static l => l is not null);
    }

    public LoadBalancerOptions Source { get; }

    /// <summary>Gets the limiter of requests without a route of their own, or <see langword="null"/> when they are not limited.</summary>
    public ClientRateLimiter? Global { get; }

    public int IPv6PrefixLength { get; }

    /// <summary>Gets a value indicating whether any request may be limited: when not, the forwarder skips the check entirely.</summary>
    public bool IsActive { get; }

    /// <summary>The limiter for a request matched by <paramref name="route"/> (<see langword="null"/>: no route), or <see langword="null"/> for none.</summary>
    public ClientRateLimiter? For(string? route)
        => route is not null && _routes.TryGetValue(route, out var own) ? own : Global;

    public bool IsExempt(IPAddress? client)
    {
        if (client is null || _exempt.Length == 0)
        {
            return false;
        }

        if (client.IsIPv4MappedToIPv6)
        {
            client = client.MapToIPv4();
        }

        foreach (var network in _exempt)
        {
            if (network.Contains(client))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Builds the limiters of <paramref name="options"/>, taking over from <paramref name="previous"/> every limiter whose
    /// policy is unchanged, so a reload that does not touch a limit keeps its clients' counts.
    /// </summary>
    public static RateLimitingState Build(LoadBalancerOptions options, RateLimitingState? previous, TimeProvider timeProvider)
    {
        var settings = options.RateLimiting;
        var globalPolicy = RateLimitPolicy.From(settings);
        var available = new List<ClientRateLimiter>(previous?.AllLimiters() ?? []);

        ClientRateLimiter Take(RateLimitPolicy policy, string scope)
        {
            var index = available.FindIndex(l => l.Policy == policy);
            if (index >= 0)
            {
                var reused = available[index];
                available.RemoveAt(index);
                return reused;
            }

            return new ClientRateLimiter(policy, timeProvider, scope);
        }

        var global = settings.Enabled ? Take(globalPolicy, "global") : null;
        var routes = new Dictionary<string, ClientRateLimiter?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, route) in options.Routes)
        {
            if (route?.RateLimiting is not { } own || (own.Enabled is null && !own.OverridesPolicy))
            {
                continue;
            }

            var policy = RateLimitPolicy.ForRoute(settings, own, globalPolicy);
            routes[name] = policy is null ? null
                : ReferenceEquals(policy, globalPolicy) && global is not null ? global
                : Take(policy, "route:" + name.ToLowerInvariant());
        }

        var exempt = new List<IPNetwork>();
        foreach (var entry in settings.ExemptNetworks)
        {
            if (LoadBalancerOptionsValidator.TryParseNetwork(entry, out var network))
            {
                exempt.Add(network);
            }
        }

        return new RateLimitingState(options, global, routes, [.. exempt], settings.IPv6PrefixLength);
    }

    /// <summary>Disposes the limiters of this (retired) state that <paramref name="successor"/> did not take over.</summary>
    public void DisposeUnused(RateLimitingState successor)
    {
        var kept = successor.AllLimiters().ToHashSet();
        foreach (var limiter in AllLimiters())
        {
            if (!kept.Contains(limiter))
            {
                limiter.Dispose();
            }
        }
    }

    public void DisposeAll()
    {
        foreach (var limiter in AllLimiters())
        {
            limiter.Dispose();
        }
    }

    private IEnumerable<ClientRateLimiter> AllLimiters()
    {
        var seen = new HashSet<ClientRateLimiter>();
        if (Global is not null && seen.Add(Global))
        {
            yield return Global;
        }

        foreach (var limiter in _routes.Values)
        {
            if (limiter is not null && seen.Add(limiter))
            {
                yield return limiter;
            }
        }
    }
}
