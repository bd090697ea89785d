namespace Balancing;

/// <summary>
/// Error-rate monitoring: a backend or a pool whose share of failed requests reaches <see cref="ErrorRateThreshold"/>
/// over <see cref="ErrorRateWindow"/> raises an alert, logged once when it starts and once when it ends, and shown in the
/// statistics (<c>/_lb/stats</c>). See docs/STATS.md for what counts as an error.
/// </summary>
public sealed class MonitoringOptions
{
    /// <summary>Gets or sets the share of failed requests, above 0 and at most 1, at or above which an alert is raised.</summary>
    /// <value>The default is 0.1 (one request in ten failed).</value>
    public double ErrorRateThreshold { get; set; } = 0.1;

    /// <summary>
    /// Gets or sets the sliding window the error rate is measured over: a whole number of seconds from 1 to 60. The alert
    /// is judged once a second, over that many of the most recent completed seconds.
    /// </summary>
    /// <value>The default is 1 minute.</value>
    public TimeSpan ErrorRateWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Gets or sets how many requests the window must hold before its error rate can raise an alert, so that two failures
    /// out of three requests on a quiet backend do not.
    /// </summary>
    /// <value>The default is 20.</value>
    public int MinimumRequests { get; set; } = 20;

    /// <summary>
    /// Gets or sets whether the Prometheus endpoint (<c>MapLoadBalancerMetrics</c>) also exports the ASP.NET Core, Kestrel
    /// and <c>HttpClient</c> meters (<c>http_server_*</c>, <c>kestrel_*</c>, <c>http_client_*</c>, ...). Balancing's meter and
    /// the runtime's are always exported. Read once, when the endpoint is first mapped.
    /// </summary>
    /// <remarks>
    /// Those instruments record only while something listens, and then cost every request several measurements: on
    /// a 2-core machine forwarding tiny responses, about 5 µs of CPU per request (some 13 %). Turn them off when the
    /// balancer's own series are enough.
    /// </remarks>
    /// <value>The default is <see langword="true"/>.</value>
    public bool PlatformMetrics { get; set; } = true;
}
