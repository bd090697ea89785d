using Microsoft.Extensions.Logging;

namespace Balancing.AspNetCore.Affinity;

/// <summary>Log messages of session affinity; event ids 120-129 (see docs/AFFINITY.md).</summary>
internal static partial class AffinityLog
{
    [LoggerMessage(EventId = 120, EventName = "AffinityValueIgnored", Level = LogLevel.Debug,
        Message = "The session affinity value of a request to pool {Pool} was ignored: {Reason}; the request is balanced as if it had none")]
    public static partial void ValueIgnored(ILogger logger, string pool, string reason);

    [LoggerMessage(EventId = 121, EventName = "AffinityRedistributed", Level = LogLevel.Debug,
        Message = "A client of pool {Pool} pinned to backend {PinnedBackend} was served by backend {Backend} and is now pinned to it")]
    public static partial void Redistributed(ILogger logger, string pool, string pinnedBackend, string backend);

    [LoggerMessage(EventId = 122, EventName = "AffinityKeysUnavailable", Level = LogLevel.Warning,
        Message = "Session affinity of pool {Pool} is suspended: Data Protection cannot protect or read pins (its key ring could not be loaded); requests are balanced without pins until it can")]
    public static partial void KeysUnavailable(ILogger logger, string pool, Exception exception);

    [LoggerMessage(EventId = 123, EventName = "AffinityKeysAvailable", Level = LogLevel.Information,
        Message = "Session affinity of pool {Pool} works again: Data Protection protects and reads pins")]
    public static partial void KeysAvailable(ILogger logger, string pool);
}
