namespace Balancing;

/// <summary>
/// One route (<c>LoadBalancer:Routes:&lt;name&gt;</c>): requests whose path matches <see cref="Path"/> and whose host
/// matches one of <see cref="Hosts"/> are forwarded to the pool <see cref="Pool"/> by <c>UseLoadBalancer()</c>.
/// </summary>
/// <remarks>
/// A route only chooses the pool. The request is forwarded with its whole original path and query, whatever part
/// of it the template matched; route values are not used. Matching rules are in docs/ROUTING.md.
/// </remarks>
public sealed class LoadBalancerRouteOptions
{
    /// <summary>
    /// Gets or sets the ASP.NET Core route template the request path must match, for example <c>/api/{**rest}</c>,
    /// <c>/static/{*path}</c>, <c>/orders/{id:int}</c> or <c>/health</c>. <c>/{**rest}</c> matches every path.
    /// </summary>
    /// <value>The default is empty, which is invalid: every route needs a path.</value>
    public string Path { get; set; } = string.Empty;

    /// <summary>
    /// Gets the host patterns the request's <c>Host</c> must match, as with ASP.NET Core's <c>RequireHost</c>:
    /// <c>example.com</c>, <c>*.example.com</c> (any subdomain, not <c>example.com</c> itself), optionally followed by a
    /// port (<c>example.com:8080</c>, <c>*:8080</c>). One match is enough.
    /// </summary>
    /// <value>The default is empty: any host.</value>
    public List<string> Hosts { get; } = [];

    /// <summary>Gets or sets the name of the pool the matching requests are forwarded to; it must be configured.</summary>
    /// <value>The default is empty, which is invalid: every route needs a pool.</value>
    public string Pool { get; set; } = string.Empty;

    /// <summary>
    /// Gets or sets the route's rank before path precedence: when several routes match, the lowest <see cref="Order"/>
    /// wins, and only among equal orders does the more specific template win. Negative values are allowed.
    /// </summary>
    /// <value>The default is 0.</value>
    public int Order { get; set; }

    /// <summary>
    /// Gets the route's own rate limit: settings left out come from <c>LoadBalancer:RateLimiting</c>;
    /// <c>Enabled: false</c> exempts the route. See docs/RATE-LIMITING.md.
    /// </summary>
    /// <value>The default overrides nothing: the route shares the global limit.</value>
    public RouteRateLimitingOptions RateLimiting { get; } = new();

    /// <summary>
    /// Gets or sets whether the route's GET and HEAD responses go through the response cache when <c>Caching:Enabled</c> is
    /// on: <see langword="true"/> or <see langword="false"/> to choose for this route, empty to follow
    /// <c>Caching:DefaultEnabledForRoutes</c>. Without <c>Caching:Enabled</c> nothing is cached, whatever this says.
    /// </summary>
    /// <value>The default is <see langword="null"/>: follow <c>Caching:DefaultEnabledForRoutes</c>.</value>
    public bool? Caching { get; set; }
}
