
namespace Balancing.Passive;

/// <summary>Helpers shared by the pools and their breakers.</summary>
internal static class PassiveHealth
{
    /// <summary>Where a pool's passive-health settings live.</summary>
    public static PassiveHealthCheckOptions OptionsOf(PoolOptions pool) => pool.HealthCheck.Passive;

    public static Health.HealthStatusCodes FailureCodes(PassiveHealthCheckOptions options)
        => Health.HealthStatusCodes.Parse(options.FailureStatusCodes, allowEmpty: true);

    public static bool SameSettings(PassiveHealthCheckOptions a, PassiveHealthCheckOptions b)
        => a.Enabled == b.Enabled
        && a.ConsecutiveFailures == b.ConsecutiveFailures
        && a.FailureRatio.Equals(b.FailureRatio)
        && a.MinimumThroughput == b.MinimumThroughput
        && a.SamplingDuration == b.SamplingDuration
        && a.BaseEjectionTime == b.BaseEjectionTime
        && a.MaxEjectionTime == b.MaxEjectionTime
        && a.MaxEjectionPercent == b.MaxEjectionPercent
        && string.Equals(a.FailureStatusCodes, b.FailureStatusCodes, StringComparison.Ordinal);
}
