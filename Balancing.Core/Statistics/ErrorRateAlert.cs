namespace Balancing.Statistics;

/// <summary>How an evaluation changed an error-rate alert.</summary>
internal enum AlertChange
{
    None,
    Raised,
    Cleared,
}

/// <summary>
/// The error-rate alert of one pool or backend, judged once a second over <see cref="MonitoringOptions.ErrorRateWindow"/>:
/// raised when the window holds at least <see cref="MonitoringOptions.MinimumRequests"/> requests and their error rate
/// reaches <see cref="MonitoringOptions.ErrorRateThreshold"/>; cleared when the error rate falls below the threshold,
/// whatever the number of requests (a window that empties out has a rate of 0).
/// </summary>
internal static class ErrorRateAlert
{
    /// <summary>Judges <paramref name="traffic"/> and updates its alert state. Called on the clock's thread only.</summary>
    public static AlertChange Evaluate(TrafficStatistics traffic, MonitoringOptions options, DateTimeOffset now, out long requests, out long errors)
    {
        var seconds = WindowSeconds(options);
        requests = traffic.Requests.Sum(seconds);
        errors = traffic.Errors.Sum(seconds);
        var rate = Rate(errors, requests);
        if (traffic.AlertSince is null)
        {
            if (requests >= options.MinimumRequests && rate >= options.ErrorRateThreshold)
            {
                traffic.AlertSince = now;
                return AlertChange.Raised;
            }
        }
        else if (rate < options.ErrorRateThreshold)
        {
            traffic.AlertSince = null;
            return AlertChange.Cleared;
        }

        return AlertChange.None;
    }

    public static int WindowSeconds(MonitoringOptions options)
        => (int)Math.Clamp(options.ErrorRateWindow.Ticks / TimeSpan.TicksPerSecond, 1, SlidingCounter.Seconds);

    /// <summary><paramref name="errors"/> over <paramref name="requests"/>, 0 without requests, at most 1.</summary>
    public static double Rate(long errors, long requests) => requests == 0 ? 0 : Math.Min(1, (double)errors / requests);
}
