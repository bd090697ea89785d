namespace Balancing;

/// <summary>
/// Passive health: every backend has a circuit breaker fed by real traffic. Transport errors, timeouts and the
/// configured status codes count as failures; a backend that fails too often is ejected for a while, then given a
/// trial request whose success brings it back. Envoy's outlier detection is the model for the defaults.
/// </summary>
public sealed class PassiveHealthCheckOptions
{
    /// <summary>Gets or sets a value indicating whether real traffic can eject a backend.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets or sets how many failures in a row, with no success between them, eject a backend.</summary>
    /// <value>The default is 5 (Envoy's consecutive_5xx). This is what trips a quiet backend.</value>
    public int ConsecutiveFailures { get; set; } = 5;

    /// <summary>Gets or sets the share of failed requests within <see cref="SamplingDuration"/> that ejects a busy backend.</summary>
    /// <value>The default is 0.5.</value>
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>Gets or sets how many requests within <see cref="SamplingDuration"/> the ratio needs before it counts.</summary>
    /// <value>The default is 100 (Polly's default).</value>
    public int MinimumThroughput { get; set; } = 100;

    /// <summary>Gets or sets the window over which failures are counted.</summary>
    /// <value>The default is 30 seconds.</value>
    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how long the first ejection lasts; each further one doubles it up to <see cref="MaxEjectionTime"/>.</summary>
    /// <value>The default is 30 seconds (Envoy's base_ejection_time).</value>
    public TimeSpan BaseEjectionTime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the longest an ejection lasts.</summary>
    /// <value>The default is 5 minutes.</value>
    public TimeSpan MaxEjectionTime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets the largest share of a pool, in percent, that may be ejected at once; one backend may always be.</summary>
    /// <value>The default is 10 (Envoy's max_ejection_percent).</value>
    public int MaxEjectionPercent { get; set; } = 10;

    /// <summary>Gets or sets the backend status codes that count as failures: codes and ranges such as <c>500-599</c> or <c>502,503</c>.</summary>
    /// <value>The default is <c>500-599</c>: server errors count, client errors (4xx) do not.</value>
    public string FailureStatusCodes { get; set; } = "500-599";
}
