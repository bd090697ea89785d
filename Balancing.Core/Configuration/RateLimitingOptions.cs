namespace Balancing;

/// <summary>
/// Per-client rate limiting (<c>LoadBalancer:RateLimiting</c>): each client address (an IPv4 address, or an IPv6
/// network of <see cref="IPv6PrefixLength"/> bits) gets its own limiter, built on <c>System.Threading.RateLimiting</c>.
/// A request over its client's limit is answered 429 with <c>Retry-After</c> and never reaches a backend. See
/// docs/RATE-LIMITING.md.
/// </summary>
public sealed class RateLimitingOptions
{
    /// <summary>Gets or sets a value indicating whether requests are limited per client.</summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool Enabled { get; set; }

    /// <summary>Gets or sets how permits are counted.</summary>
    /// <value>The default is <see cref="RateLimitAlgorithm.TokenBucket"/>.</value>
    public RateLimitAlgorithm Algorithm { get; set; } = RateLimitAlgorithm.TokenBucket;

    /// <summary>
    /// Gets or sets the most requests a client may make: the bucket's size (token bucket), the requests per window
    /// (fixed and sliding window) or the requests in progress at once (concurrency).
    /// </summary>
    /// <value>The default is 100.</value>
    public int PermitLimit { get; set; } = 100;

    /// <summary>
    /// Gets or sets the length of a window (fixed and sliding window), or the period after which
    /// <see cref="TokensPerPeriod"/> tokens are added back (token bucket). Not used by the concurrency limit.
    /// </summary>
    /// <value>The default is 1 second.</value>
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how many tokens the bucket gets back per <see cref="Window"/> (token bucket only).</summary>
    /// <value>The default is 100: with the other defaults, 100 requests per second with bursts of up to 100.</value>
    public int TokensPerPeriod { get; set; } = 100;

    /// <summary>Gets or sets how many segments a sliding window is divided into (sliding window only).</summary>
    /// <value>The default is 10.</value>
    public int SegmentsPerWindow { get; set; } = 10;

    /// <summary>
    /// Gets or sets how many requests over the limit may wait for a permit instead of being refused at once (oldest
    /// first). A waiting request holds its connection, so keep this small.
    /// </summary>
    /// <value>The default is 0: a request over the limit is refused at once.</value>
    public int QueueLimit { get; set; }

    /// <summary>
    /// Gets the client addresses that are never limited: IP addresses or CIDR networks (<c>10.0.0.0/8</c>,
    /// <c>2001:db8::/32</c>), matched against the client address as the balancer resolves it (see
    /// <see cref="ForwardingOptions.TrustedProxies"/>).
    /// </summary>
    /// <value>The default is empty: every client is limited.</value>
    public List<string> ExemptNetworks { get; } = [];

    /// <summary>
    /// Gets or sets how many leading bits of an IPv6 client address make one client. A host usually owns a whole /64
    /// and can pick a new address in it for every request; grouping by prefix stops it from escaping its limit that way.
    /// </summary>
    /// <value>The default is 64; 128 limits each IPv6 address on its own.</value>
    public int IPv6PrefixLength { get; set; } = 64;
}

/// <summary>
/// A route's own rate limit (<c>LoadBalancer:Routes:&lt;name&gt;:RateLimiting</c>). Every setting left out is taken from
/// <c>LoadBalancer:RateLimiting</c>. A route that changes any setting gets its own limit per client, apart from the
/// global one; a route that sets <see cref="Enabled"/> to <see langword="false"/> is not limited at all.
/// </summary>
public sealed class RouteRateLimitingOptions
{
    /// <summary>Gets or sets a value indicating whether the route's requests are limited.</summary>
    /// <value>The default is <see langword="null"/>: as <see cref="RateLimitingOptions.Enabled"/>.</value>
    public bool? Enabled { get; set; }

    /// <summary>Gets or sets the route's algorithm.</summary>
    /// <value>The default is <see langword="null"/>: as <see cref="RateLimitingOptions.Algorithm"/>.</value>
    public RateLimitAlgorithm? Algorithm { get; set; }

    /// <summary>Gets or sets the route's permit limit.</summary>
    /// <value>The default is <see langword="null"/>: as <see cref="RateLimitingOptions.PermitLimit"/>.</value>
    public int? PermitLimit { get; set; }

    /// <summary>Gets or sets the route's window or replenishment period.</summary>
    /// <value>The default is <see langword="null"/>: as <see cref="RateLimitingOptions.Window"/>.</value>
    public TimeSpan? Window { get; set; }

    /// <summary>Gets or sets the route's tokens per period (token bucket).</summary>
    /// <value>The default is <see langword="null"/>: as <see cref="RateLimitingOptions.TokensPerPeriod"/>.</value>
    public int? TokensPerPeriod { get; set; }

    /// <summary>Gets or sets the route's segments per window (sliding window).</summary>
    /// <value>The default is <see langword="null"/>: as <see cref="RateLimitingOptions.SegmentsPerWindow"/>.</value>
    public int? SegmentsPerWindow { get; set; }

    /// <summary>Gets or sets the route's queue limit.</summary>
    /// <value>The default is <see langword="null"/>: as <see cref="RateLimitingOptions.QueueLimit"/>.</value>
    public int? QueueLimit { get; set; }

    /// <summary>Gets a value indicating whether any limit setting (anything but <see cref="Enabled"/>) is overridden.</summary>
    internal bool OverridesPolicy => Algorithm is not null || PermitLimit is not null || Window is not null
        || TokensPerPeriod is not null || SegmentsPerWindow is not null || QueueLimit is not null;
}

/// <summary>How a rate limit counts permits; each is one of <c>System.Threading.RateLimiting</c>'s limiters.</summary>
public enum RateLimitAlgorithm
{
    /// <summary>
    /// A bucket of <see cref="RateLimitingOptions.PermitLimit"/> tokens, one per request, refilled by
    /// <see cref="RateLimitingOptions.TokensPerPeriod"/> every <see cref="RateLimitingOptions.Window"/>: a steady rate
    /// with bursts up to the bucket's size.
    /// </summary>
    TokenBucket = 0,

    /// <summary><see cref="RateLimitingOptions.PermitLimit"/> requests per window; the count starts again at each window.</summary>
    FixedWindow = 1,

    /// <summary>
    /// <see cref="RateLimitingOptions.PermitLimit"/> requests in any window, tracked in
    /// <see cref="RateLimitingOptions.SegmentsPerWindow"/> segments, so no burst fits at a window's edge.
    /// </summary>
    SlidingWindow = 2,

    /// <summary>At most <see cref="RateLimitingOptions.PermitLimit"/> requests in progress at once per client.</summary>
    Concurrency = 3,
}
