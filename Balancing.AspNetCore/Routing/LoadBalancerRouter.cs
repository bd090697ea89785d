using Balancing.AspNetCore.Diagnostics;
using Balancing.AspNetCore.Forwarding;
using Balancing.Configuration;
using Balancing.Pools;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Balancing.AspNetCore.Routing;

/// <summary>
/// Chooses the pool of a request that reached <c>UseLoadBalancer()</c>, from the routes of the configuration in force.
/// The compiled table follows the pool registry: when the registry has applied a new configuration, the first request
/// that sees it compiles its routes once and swaps the table in whole. A rejected reload leaves both untouched.
/// </summary>
internal sealed class LoadBalancerRouter
{
    private readonly ServerPoolRegistry _registry;
    private readonly RouteTableRule _rule;
    private readonly LoadBalancerConfigurationSource _source;
    private readonly IServiceProvider _services;
    private readonly ILogger _logger;
    private readonly Lock _compileLock = new();
    private volatile RouteTable _table;

    public LoadBalancerRouter(ServerPoolRegistry registry, RouteTableRule rule, LoadBalancerConfigurationSource source, IServiceProvider services, ILogger<LoadBalancerRouter> logger)
    {
        _registry = registry;
        _rule = rule;
        _source = source;
        _services = services;
        _logger = logger;
        _table = Compile(registry.Options);
    }

    /// <summary>Gets the table of the configuration in force.</summary>
    public RouteTable Table
    {
        get
        {
            var table = _table;
            return ReferenceEquals(table.Source, _registry.Options) ? table : Refresh();
        }
    }

    /// <summary>See <see cref="RouteTableRule.MountDefault"/>.</summary>
    public void MountDefault() => _rule.MountDefault(_registry.Options, SectionPath, _registry.IsFedBySource);

    /// <summary>
    /// The pool for <paramref name="context"/>: with no routes configured, <paramref name="fallbackPool"/> or
    /// <c>default</c>; otherwise the best matching route's pool, else <paramref name="fallbackPool"/>, else
    /// <see langword="null"/> (no route matches).
    /// </summary>
    public string? Match(HttpContext context, string? fallbackPool) => Match(context, fallbackPool, out _);

    /// <summary>As <see cref="Match(HttpContext, string?)"/>, and tells which route matched (<see langword="null"/> for none).</summary>
    public string? Match(HttpContext context, string? fallbackPool, out string? route)
    {
        route = null;
        var table = Table;
        if (table.IsEmpty)
        {
            return fallbackPool ?? LoadBalancerOptions.DefaultPoolName;
        }

        if (table.MatchRoute(context) is { } matched)
        {
            route = matched.Name;
            return matched.Pool;
        }

        return fallbackPool;
    }

    /// <summary>Answers a request no route matches: 404 with a problem+json body.</summary>
    public Task WriteNotFoundAsync(HttpContext context)
    {
        Log.NoRouteMatched(_logger, context.Request.Method, context.Request.Host.Value ?? string.Empty, context.Request.Path.Value ?? "/");
        return ProblemResponse.WriteAsync(context, StatusCodes.Status404NotFound, "No route of the load balancer matches this request.");
    }

    private string SectionPath => LoadBalancerConfigurationSource.PathOf(_source.Resolve(_services));

    private RouteTable Refresh()
    {
        lock (_compileLock)
        {
            // Read again under the lock: a newer configuration may have been applied while this thread waited.
            var options = _registry.Options;
            var table = _table;
            if (!ReferenceEquals(table.Source, options))
            {
                table = Compile(options);
                _table = table;
            }

            return table;
        }
    }

    // The registry applied this configuration only after the rule had compiled it without errors, so none are expected.
    private RouteTable Compile(LoadBalancerOptions options) => RouteTable.Compile(options, SectionPath, _rule.Policies, []);
}
