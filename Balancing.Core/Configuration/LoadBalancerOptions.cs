namespace Balancing;

/// <summary>The balancer's configuration, bound from the <c>LoadBalancer</c> section.</summary>
/// <remarks>
/// Pools and backends are dictionaries keyed by name so that environment variables and command-line
/// arguments can add or change one (<c>--LoadBalancer:Pools:default:Backends:b3:Address=http://127.0.0.1:9003</c>).
/// </remarks>
public sealed class LoadBalancerOptions
{
    /// <summary>The name of the pool that <c>UseLoadBalancer()</c> forwards to.</summary>
    public const string DefaultPoolName = "default";

    /// <summary>Gets the pools, keyed by name (case-insensitive).</summary>
    /// <value>The default is no pools.</value>
    public Dictionary<string, PoolOptions> Pools { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Gets the routes that choose a pool by the request's path and host, keyed by name (case-insensitive); see
    /// docs/ROUTING.md. With routes, <c>UseLoadBalancer()</c> forwards each request to the pool of the best matching
    /// route and answers 404 when none matches.
    /// </summary>
    /// <value>The default is no routes: <c>UseLoadBalancer()</c> forwards every request to the pool <c>default</c>.</value>
    public Dictionary<string, LoadBalancerRouteOptions> Routes { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets how requests are forwarded: forwarding headers, trusted proxies, body limits.</summary>
    public ForwardingOptions Forwarding { get; } = new();

    /// <summary>Gets the settings of the connections to backends.</summary>
    public BackendConnectionOptions Connections { get; } = new();

    /// <summary>Gets the settings of the per-request log line.</summary>
    public RequestLoggingOptions RequestLogging { get; } = new();

    /// <summary>Gets the settings of error-rate monitoring, whose alerts are logged and shown in the statistics.</summary>
    public MonitoringOptions Monitoring { get; } = new();

    /// <summary>Gets the per-client rate limit (see docs/RATE-LIMITING.md); routes may override it.</summary>
    public RateLimitingOptions RateLimiting { get; } = new();

    /// <summary>Gets the settings of the shared response cache (off by default); see docs/CACHING.md.</summary>
    public CachingOptions Caching { get; } = new();
}
