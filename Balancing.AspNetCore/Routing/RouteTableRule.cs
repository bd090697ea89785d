using Balancing.Configuration;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Balancing.AspNetCore.Routing;

/// <summary>
/// The front door's part of validation, run by the engine with its own checks at start-up and on every reload: route
/// templates parse and their constraints exist, no two routes conflict, and once <c>UseLoadBalancer()</c> relies on
/// the pool <c>default</c> for a configuration without routes, that pool is there.
/// </summary>
internal sealed class RouteTableRule : ILoadBalancerOptionsRule
{
    private readonly IServiceProvider _services;
    private volatile bool _defaultMounted;
    private Func<string, bool>? _fedBySource;

    public RouteTableRule(IServiceProvider services)
    {
        _services = services;
    }

    /// <summary>Gets the factory that resolves inline constraints (<c>{id:int}</c>) with the app's constraint map.</summary>
    public ParameterPolicyFactory? Policies => _services.GetService<ParameterPolicyFactory>();

    public void Validate(LoadBalancerOptions options, string sectionPath, List<string> errors)
    {
        RouteTable.Compile(options, sectionPath, Policies, errors);
        if (_defaultMounted)
        {
            RequireDefaultPool(options, sectionPath, _fedBySource, errors);
        }
    }

    /// <summary>
    /// Records that <c>UseLoadBalancer()</c> forwards to <c>default</c> whenever no routes are configured, and fails now
    /// if that is the case and the pool is missing or empty. Later reloads in that state are rejected.
    /// </summary>
    /// <param name="current">The configuration in force.</param>
    /// <param name="sectionPath">The section's path, for messages.</param>
    /// <param name="fedBySource">Whether a backend source supplies a pool's backends, which then needs none configured.</param>
    public void MountDefault(LoadBalancerOptions current, string sectionPath, Func<string, bool>? fedBySource = null)
    {
        _fedBySource = fedBySource;
        var errors = new List<string>();
        RequireDefaultPool(current, sectionPath, fedBySource, errors);
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(LoadBalancerOptions), errors);
        }

        _defaultMounted = true;
    }

    private static void RequireDefaultPool(LoadBalancerOptions options, string sectionPath, Func<string, bool>? fedBySource, List<string> errors)
    {
        if (options.Routes.Count > 0)
        {
            return;
        }

        const string name = LoadBalancerOptions.DefaultPoolName;
        if (!options.Pools.TryGetValue(name, out var pool))
        {
            errors.Add($"{sectionPath}:Pools:{name}: pool '{name}' is not configured and there are no routes; UseLoadBalancer() forwards to '{name}' when no routes are configured.");
        }
        else if (pool.Backends.Count == 0 && fedBySource?.Invoke(name) != true)
        {
            errors.Add($"{sectionPath}:Pools:{name}:Backends: pool '{name}' has no backends and there are no routes; UseLoadBalancer() forwards to '{name}' when no routes are configured.");
        }
    }
}
