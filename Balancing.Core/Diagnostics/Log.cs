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

    [LoggerMessage(EventId = 20, EventName = "DiscoveredBackendsApplied", Level = LogLevel.Information,
        Message = "Backends of pool {Pool} changed by discovery; it now has {BackendCount} backends")]
    public static partial void DiscoveredBackendsApplied(ILogger logger, string pool, int backendCount);

    [LoggerMessage(EventId = 21, EventName = "DiscoveredBackendIgnored", Level = LogLevel.Warning,
        Message = "Backend source {Source} gave pool {Pool} a backend {BackendId} that is ignored: {Reason}")]
    public static partial void DiscoveredBackendIgnored(ILogger logger, string source, string pool, string? backendId, string reason);

    [LoggerMessage(EventId = 22, EventName = "BackendSourceFailed", Level = LogLevel.Error,
        Message = "Backend source {Source} failed to give its backends; the backends it gave last are kept")]
    public static partial void BackendSourceFailed(ILogger logger, string source, Exception exception);

    [LoggerMessage(EventId = 23, EventName = "DnsResolutionFailed", Level = LogLevel.Warning,
        Message = "DNS resolution of {Host} for backend {BackendId} in pool {Pool} failed; its {AddressCount} last known addresses are kept until a resolution succeeds")]
    public static partial void DnsResolutionFailed(ILogger logger, string host, string backendId, string pool, int addressCount, Exception exception);

    [LoggerMessage(EventId = 24, EventName = "DnsNoAddresses", Level = LogLevel.Warning,
        Message = "DNS name {Host} for backend {BackendId} in pool {Pool} has no {AddressFamily} addresses; the entry gives no backends")]
    public static partial void DnsNoAddresses(ILogger logger, string host, string backendId, string pool, DnsAddressFamily addressFamily);

    [LoggerMessage(EventId = 25, EventName = "DnsResolutionRecovered", Level = LogLevel.Information,
        Message = "DNS resolution of {Host} for backend {BackendId} in pool {Pool} succeeds again: {AddressCount} addresses")]
    public static partial void DnsResolutionRecovered(ILogger logger, string host, string backendId, string pool, int addressCount);

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
