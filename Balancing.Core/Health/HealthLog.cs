using Microsoft.Extensions.Logging;

namespace Balancing.Diagnostics;

/// <summary>The log messages of active health checks (events 200-299; 200 is declared with the others in Log.cs).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 201, EventName = "ActiveHealthChecksStarted", Level = LogLevel.Information,
        Message = "Active health checks of pool {Pool} started: probe {Probe} every {Interval}, timeout {Timeout}, healthy after {HealthyThreshold} passes, unhealthy after {UnhealthyThreshold} failures")]
    public static partial void ActiveHealthChecksStarted(ILogger logger, string pool, string probe, TimeSpan interval, TimeSpan timeout, int healthyThreshold, int unhealthyThreshold);

    [LoggerMessage(EventId = 202, EventName = "ActiveHealthChecksStopped", Level = LogLevel.Information,
        Message = "Active health checks of pool {Pool} stopped")]
    public static partial void ActiveHealthChecksStopped(ILogger logger, string pool);

    [LoggerMessage(EventId = 203, EventName = "HealthProbeFailed", Level = LogLevel.Debug,
        Message = "Health probe of backend {BackendId} in pool {Pool} failed ({Failures} in a row): {Description}")]
    public static partial void HealthProbeFailed(ILogger logger, string backendId, string pool, int failures, string? description, Exception? exception);

    [LoggerMessage(EventId = 204, EventName = "HealthProbeCreationFailed", Level = LogLevel.Error,
        Message = "The health probe {Probe} of pool {Pool} could not be created; the pool's backends are not probed")]
    public static partial void HealthProbeCreationFailed(ILogger logger, string probe, string pool, Exception exception);

    [LoggerMessage(EventId = 205, EventName = "HealthCheckRoundFailed", Level = LogLevel.Error,
        Message = "A round of health checks of pool {Pool} failed; probing continues")]
    public static partial void HealthCheckRoundFailed(ILogger logger, string pool, Exception exception);

    [LoggerMessage(EventId = 206, EventName = "HealthProbeDisposeFailed", Level = LogLevel.Warning,
        Message = "The health probe of pool {Pool} threw while being disposed")]
    public static partial void HealthProbeDisposeFailed(ILogger logger, string pool, Exception exception);
}
