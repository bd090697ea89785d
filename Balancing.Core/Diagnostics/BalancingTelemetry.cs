namespace Balancing;

/// <summary>
/// The names under which the balancer publishes its telemetry, so an app can subscribe to it without spelling them:
/// <c>AddMeter(BalancingTelemetry.MeterName)</c> for metrics, <c>AddSource(BalancingTelemetry.ActivitySourceName)</c>
/// for traces (OpenTelemetry), or a <see cref="System.Diagnostics.Metrics.MeterListener"/> /
/// <see cref="System.Diagnostics.ActivityListener"/> of its own.
/// </summary>
/// <remarks>The instruments, spans and tags are listed in docs/METRICS.md.</remarks>
public static class BalancingTelemetry
{
    /// <summary>
    /// The name of the balancer's <see cref="System.Diagnostics.Metrics.Meter"/>. It is created from the app's
    /// <see cref="System.Diagnostics.Metrics.IMeterFactory"/>, so each service provider has its own.
    /// </summary>
    public const string MeterName = "Balancing";

    /// <summary>
    /// The name of the balancer's <see cref="System.Diagnostics.ActivitySource"/>: one span per forwarding attempt
    /// (<c>balancing.attempt</c>) and one per health probe (<c>balancing.probe</c>).
    /// </summary>
    public const string ActivitySourceName = "Balancing";
}
