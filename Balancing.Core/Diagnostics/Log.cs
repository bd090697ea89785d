using Microsoft.Extensions.Logging;

namespace Balancing.Diagnostics;

/// <summary>
/// Every log message of the engine. Event ids are stable and listed in docs/OPERATIONS.md:
/// 1-99 configuration, 100-199 forwarding, 200-299 health.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, EventName = "ConfigurationApplied", Level = LogLevel.Information,
        Message = "Load balancer configuration applied: {PoolCount} pools, {BackendCount} backends")]
    public static partial void ConfigurationApplied(ILogger logger, int poolCount, int backendCount);

    [LoggerMessage(EventId = 2, EventName = "ConfigurationRejected", Level = LogLevel.Error,
        Message = "Load balancer configuration change rejected; the previous configuration keeps serving. Errors: {Errors}")]
    public static partial void ConfigurationRejected(ILogger logger, string errors);

    [LoggerMessage(EventId = 3, EventName = "ConnectionSettingsNeedRestart", Level = LogLevel.Warning,
        Message = "Load balancer Connections settings changed; they apply to connections made after a restart")]
    public static partial void ConnectionSettingsNeedRestart(ILogger logger);

    [LoggerMessage(EventId = 250, EventName = "BackendEjected", Level = LogLevel.Warning,
        Message = "Backend {BackendId} in pool {Pool} is ejected for {Seconds:0} s by passive health (ejection {EjectionCount})")]
    public static partial void BackendEjected(ILogger logger, string backendId, string pool, double seconds, int ejectionCount);

    [LoggerMessage(EventId = 251, EventName = "BackendReadmitted", Level = LogLevel.Information,
        Message = "Backend {BackendId} in pool {Pool} is readmitted for a trial request after its ejection")]
    public static partial void BackendReadmitted(ILogger logger, string backendId, string pool);

    [LoggerMessage(EventId = 252, EventName = "EjectionRefused", Level = LogLevel.Warning,
        Message = "Backend {BackendId} in pool {Pool} tripped its breaker but stays in rotation: {MaxEjectionPercent}% of the pool is ejected already")]
    public static partial void EjectionRefused(ILogger logger, string backendId, string pool, int maxEjectionPercent);

    [LoggerMessage(EventId = 200, EventName = "BackendHealthChanged", Level = LogLevel.Warning,
        Message = "Backend {BackendId} in pool {Pool} is now {Health}: {Reason}")]
    public static partial void BackendHealthChanged(ILogger logger, string backendId, string pool, BackendHealth health, string? reason);
}
