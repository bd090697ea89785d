namespace Balancing;

/// <summary>One pool: its backends and the strategy that chooses among them.</summary>
public sealed class PoolOptions
{
    /// <summary>Gets or sets the name of the strategy (see <see cref="LoadStrategyNames"/>).</summary>
    /// <value>The default is <see cref="LoadStrategyNames.RoundRobin"/>.</value>
    public string Strategy { get; set; } = LoadStrategyNames.RoundRobin;

    /// <summary>
    /// Gets or sets how long a backend takes to reach its full weight after it enters service (joins the pool on a reload,
    /// turns healthy again, is readmitted after an ejection): its weight starts at 10 % and grows linearly over this window,
    /// so a cold backend is not flooded at once. The weighted strategies honour it; <see cref="LoadStrategyNames.RoundRobin"/>
    /// does not weigh. See docs/STRATEGIES.md.
    /// </summary>
    /// <value>The default is <see cref="TimeSpan.Zero"/>: off, a backend gets its full weight at once.</value>
    public TimeSpan SlowStart { get; set; } = TimeSpan.Zero;

    /// <summary>Gets the backends, keyed by name (case-insensitive).</summary>
    /// <value>The default is no backends.</value>
    public Dictionary<string, BackendOptions> Backends { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Gets or sets how long the exchange may go without progress before the balancer gives up and answers 504:
    /// while the request body is being sent the clock restarts with every piece that moves, so a large upload
    /// that keeps moving is never cut off; after the body, it bounds the wait for the response headers.
    /// </summary>
    /// <value>The default is 100 seconds (the same as <c>HttpClient.Timeout</c> and YARP's activity timeout).</value>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>Gets the failover settings: which failed attempts are retried on another backend, and how often.</summary>
    public RetryOptions Retry { get; } = new();

    /// <summary>Gets or sets the HTTP version requested from backends: <c>1.1</c>, <c>2</c> or <c>3</c>.</summary>
    /// <value>
    /// The default is <c>2</c> with <see cref="VersionPolicy"/> <see cref="HttpVersionPolicy.RequestVersionOrLower"/>, as YARP does:
    /// HTTPS backends that offer HTTP/2 through ALPN get it, everything else gets HTTP/1.1.
    /// For cleartext HTTP/2 (h2c, prior knowledge) set <c>2</c> with <see cref="HttpVersionPolicy.RequestVersionExact"/>.
    /// </value>
    public string HttpVersion { get; set; } = "2";

    /// <summary>Gets or sets how strictly <see cref="HttpVersion"/> is applied.</summary>
    /// <value>The default is <see cref="HttpVersionPolicy.RequestVersionOrLower"/>.</value>
    public HttpVersionPolicy VersionPolicy { get; set; } = HttpVersionPolicy.RequestVersionOrLower;

    /// <summary>Gets how WebSocket connections are tunnelled to the pool's backends (see docs/PROTOCOLS.md).</summary>
    /// <value>The default is on, with a 5-minute idle timeout.</value>
    public WebSocketForwardingOptions WebSockets { get; } = new();

    /// <summary>Gets how the certificates of the pool's <c>https</c> backends are validated (see docs/PROTOCOLS.md).</summary>
    /// <value>The default is validation against the machine's trusted roots.</value>
    public BackendTlsOptions Tls { get; } = new();

    /// <summary>Gets or sets a value indicating whether the client's <c>Host</c> header is sent to the backend instead of the backend's own.</summary>
    /// <value>The default is <see langword="false"/>: the backend sees its own host, as with NGINX's default <c>proxy_set_header Host $proxy_host</c>.</value>
    public bool PreserveHostHeader { get; set; }

    /// <summary>Gets how the pool checks the health of its backends (see docs/HEALTH.md).</summary>
    /// <value>The default is passive health and the panic rule on, active probes off.</value>
    public HealthCheckOptions HealthCheck { get; } = new();

    /// <summary>Gets the session-affinity settings: whether clients are pinned to the backend that first served them (see docs/AFFINITY.md).</summary>
    /// <value>The default is affinity off.</value>
    public SessionAffinityOptions SessionAffinity { get; } = new();

    /// <summary>Gets the settings of the <see cref="LoadStrategyNames.PeakEwma"/> strategy and of every backend's latency estimate.</summary>
    public PeakEwmaOptions PeakEwma { get; } = new();

    /// <summary>Gets the DNS discovery settings of the pool's backends whose <see cref="BackendOptions.Discovery"/> is <see cref="BackendDiscovery.Dns"/>.</summary>
    public DnsDiscoveryOptions Dns { get; } = new();

    /// <summary>Gets the settings of the <see cref="LoadStrategyNames.ConsistentHash"/> strategy: the key, the load bound, the table size.</summary>
    public ConsistentHashOptions ConsistentHash { get; } = new();
}
