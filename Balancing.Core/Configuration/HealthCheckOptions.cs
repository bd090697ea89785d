namespace Balancing;

/// <summary>How a pool finds out which of its backends can serve traffic (<c>Pools:&lt;name&gt;:HealthCheck</c>).</summary>
public sealed class HealthCheckOptions
{
    /// <summary>Gets the settings of active health checks: probes sent to every backend on a schedule.</summary>
    /// <value>The default is active checks turned off.</value>
    public ActiveHealthCheckOptions Active { get; } = new();

    /// <summary>Gets the settings of passive health checks: circuit breakers fed by real traffic that eject failing backends.</summary>
    /// <value>The default is passive checks turned on with Envoy's outlier-detection defaults.</value>
    public PassiveHealthCheckOptions Passive { get; } = new();

    /// <summary>
    /// Gets or sets the share of the pool (backends with weight) that must be available; below it, <see cref="WhenTooFewHealthy"/> applies.
    /// </summary>
    /// <value>The default is 0.5, Envoy's panic threshold.</value>
    public double PanicThreshold { get; set; } = 0.5;

    /// <summary>Gets or sets what happens when fewer backends than <see cref="PanicThreshold"/> are available.</summary>
    /// <value>
    /// The default is <see cref="TooFewHealthyPolicy.SpreadOverAll"/> (Envoy's panic mode, YARP's HealthyOrPanic): when most
    /// of a pool looks down, the health signal is more likely wrong than the backends, and refusing everyone helps nobody.
    /// </value>
    public TooFewHealthyPolicy WhenTooFewHealthy { get; set; } = TooFewHealthyPolicy.SpreadOverAll;
}

/// <summary>What a pool does when too few of its backends are available.</summary>
public enum TooFewHealthyPolicy
{
    /// <summary>Panic: spread traffic over every backend with weight, healthy or not.</summary>
    SpreadOverAll = 0,

    /// <summary>Keep to the available backends; with none, answer 503 with <c>Retry-After</c>.</summary>
    Reject = 1,
}

/// <summary>
/// Active health checks of one pool (<c>Pools:&lt;name&gt;:HealthCheck:Active</c>): every <see cref="Interval"/>, each
/// backend is probed; <see cref="UnhealthyThreshold"/> failures in a row take it out of rotation and
/// <see cref="HealthyThreshold"/> passes in a row bring it back. The defaults are HAProxy's (<c>inter 2s rise 2 fall 3</c>).
/// </summary>
public sealed class ActiveHealthCheckOptions
{
    /// <summary>Gets or sets a value indicating whether the pool's backends are probed.</summary>
    /// <value>The default is <see langword="false"/>: checks are opt-in, because a probe path must exist on the backends.</value>
    public bool Enabled { get; set; }

    /// <summary>
    /// Gets or sets the name of the probe (see <see cref="HealthProbeNames"/>): <c>Http</c>, <c>Tcp</c>, or the name of a
    /// probe the app registered with <c>AddHealthProbe&lt;TProbe&gt;(name)</c>.
    /// </summary>
    /// <value>The default is <see cref="HealthProbeNames.Http"/>.</value>
    public string Probe { get; set; } = HealthProbeNames.Http;

    /// <summary>
    /// Gets or sets the path (and optional query) the HTTP probe requests, after the backend's address: a backend at
    /// <c>http://10.0.0.1:8080/api</c> is probed at <c>http://10.0.0.1:8080/api/health</c>. Must start with <c>/</c>.
    /// </summary>
    /// <value>The default is <c>/health</c>.</value>
    public string Path { get; set; } = "/health";

    /// <summary>Gets or sets the time between two probes of the same backend.</summary>
    /// <value>The default is 2 seconds (HAProxy's <c>inter</c>): a dead backend is out of rotation within about 6 seconds.</value>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Gets or sets how long one probe may take before it counts as a failure; at most <see cref="Interval"/>.</summary>
    /// <value>The default is 1 second: a health endpoint that needs longer is as good as down for a load balancer.</value>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how many probes in a row a backend must pass to become healthy (HAProxy's <c>rise</c>).</summary>
    /// <value>The default is 2: one lucky answer does not bring a flapping backend back.</value>
    public int HealthyThreshold { get; set; } = 2;

    /// <summary>Gets or sets how many probes in a row a backend must fail to become unhealthy (HAProxy's <c>fall</c>).</summary>
    /// <value>The default is 3: one lost packet or slow answer does not take a backend out.</value>
    public int UnhealthyThreshold { get; set; } = 3;

    /// <summary>
    /// Gets or sets the status codes the HTTP probe accepts as a pass: codes and ranges separated by commas,
    /// for example <c>200-299,404</c>.
    /// </summary>
    /// <value>The default is <c>200-299</c>.</value>
    public string ExpectedStatusCodes { get; set; } = "200-299";

    /// <summary>
    /// Gets or sets how much each probe's time varies, as a fraction of <see cref="Interval"/>: each backend is probed at a
    /// random moment within ±<c>Jitter</c>×<see cref="Interval"/> of its regular time, so the probes of many balancers (and
    /// of many backends) do not all arrive at once. Between 0 and 0.5.
    /// </summary>
    /// <value>The default is 0.1 (±0.2 seconds at the default interval).</value>
    public double Jitter { get; set; } = 0.1;
}
