using System.Collections.Concurrent;
using Balancing.Pools;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Balancing.AspNetCore.Affinity;

/// <summary>
/// The front door's session affinity: hands the forwarder the policy of a pool that has affinity on, built once per
/// configuration. A pool without affinity costs one flag read; Data Protection is not even resolved until a pool needs it.
/// </summary>
internal sealed class SessionAffinity
{
    private readonly IServiceProvider _services;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, AffinityPolicy> _policies = new(StringComparer.OrdinalIgnoreCase);
    private IDataProtectionProvider? _provider;

    public SessionAffinity(IServiceProvider services, TimeProvider timeProvider, ILogger<SessionAffinity> logger)
    {
        _services = services;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>Gets the affinity policy of <paramref name="pool"/>, or <see langword="null"/> when the pool has affinity off.</summary>
    public AffinityPolicy? For(ServerPool pool)
    {
        var options = pool.Options.SessionAffinity;
        if (!options.Enabled)
        {
            return null;
        }

        // A reload binds new options objects: the policy is rebuilt once, then found again without allocating.
        if (_policies.TryGetValue(pool.Name, out var policy) && ReferenceEquals(policy.Options, options))
        {
            return policy;
        }

        var provider = _provider ??= _services.GetRequiredService<IDataProtectionProvider>();
        policy = new AffinityPolicy(pool.Name, options, new AffinityProtector(provider, pool.Name), _timeProvider, _logger);
        _policies[pool.Name] = policy;
        return policy;
    }
}
