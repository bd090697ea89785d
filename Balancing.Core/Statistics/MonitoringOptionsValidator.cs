namespace Balancing.Statistics;

/// <summary>The rules for the <c>Monitoring</c> section; errors are prefixed with the full key.</summary>
internal static class MonitoringOptionsValidator
{
    /// <param name="monitoring">The options.</param>
    /// <param name="path">The section's key, <c>LoadBalancer:Monitoring</c>.</param>
    /// <param name="errors">Receives one message per problem.</param>
    public static void Validate(MonitoringOptions monitoring, string path, List<string> errors)
    {
        if (!double.IsFinite(monitoring.ErrorRateThreshold) || monitoring.ErrorRateThreshold is <= 0 or > 1)
        {
            errors.Add($"{path}:ErrorRateThreshold: must be above 0 and at most 1, not {monitoring.ErrorRateThreshold}.");
        }

        // The counters keep one minute of one-second buckets: any whole number of them can be summed, nothing else.
        var window = monitoring.ErrorRateWindow;
        if (window < TimeSpan.FromSeconds(1) || window > TimeSpan.FromSeconds(SlidingCounter.Seconds) || window.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            errors.Add($"{path}:ErrorRateWindow: must be a whole number of seconds from 00:00:01 to 00:01:00, not {window}.");
        }

        if (monitoring.MinimumRequests < 1)
        {
            errors.Add($"{path}:MinimumRequests: must be at least 1, not {monitoring.MinimumRequests}.");
        }
    }
}
