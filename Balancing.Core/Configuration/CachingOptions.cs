namespace Balancing;

/// <summary>
/// The shared response cache (<c>LoadBalancer:Caching</c>): GET and HEAD responses that RFC 9111 lets a shared cache
/// store are kept in memory, up to <see cref="SizeLimit"/> bytes, and served without asking a backend while they are
/// fresh. The rules it follows, and those it does not, are in docs/CACHING.md.
/// </summary>
public sealed class CachingOptions
{
    /// <summary>The default of <see cref="SizeLimit"/>: 100 MiB.</summary>
    public const long DefaultSizeLimit = 100L * 1024 * 1024;

    /// <summary>The default of <see cref="MaxEntrySize"/>: 1 MiB.</summary>
    public const long DefaultMaxEntrySize = 1024 * 1024;

    /// <summary>
    /// Gets or sets a value indicating whether responses are cached at all. Off, the balancer forwards every request as it
    /// would without this section.
    /// </summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool Enabled { get; set; }

    /// <summary>
    /// Gets or sets the most the cache holds, in bytes (bodies, headers and keys, estimated). When a new response does not
    /// fit, the least recently used responses are evicted to make room.
    /// </summary>
    /// <value>The default is 104857600 (100 MiB).</value>
    public long SizeLimit { get; set; } = DefaultSizeLimit;

    /// <summary>
    /// Gets or sets the largest body, in bytes, that is stored. A larger response streams through to the client as usual
    /// and is not kept, so one big download cannot push out thousands of small answers. This is the cache's entry limit.
    /// </summary>
    /// <value>The default is 1048576 (1 MiB).</value>
    public long MaxEntrySize { get; set; } = DefaultMaxEntrySize;

    /// <summary>
    /// Gets or sets whether routes whose <c>Caching</c> is not set use the cache, as do requests that reach a pool without
    /// a route (<c>UseLoadBalancer()</c> without routes, <c>MapLoadBalancer()</c>). A route's own <c>Caching</c> wins.
    /// </summary>
    /// <value>The default is <see langword="true"/>: with <see cref="Enabled"/> on, every route caches unless it opts out.</value>
    public bool DefaultEnabledForRoutes { get; set; } = true;
}
