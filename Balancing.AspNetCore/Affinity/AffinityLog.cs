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
}
