using Microsoft.Extensions.Logging;

namespace Balancing.Redis;

/// <summary>The log messages of the Redis connection (events 310-312).</summary>
internal static partial class RedisLog
{
    [LoggerMessage(EventId = 310, EventName = "RedisUnavailable", Level = LogLevel.Warning,
        Message = "Redis is unavailable ({Reason}); rate limits fall back to {Fallback} and the response cache to memory until it returns")]
    public static partial void Unavailable(ILogger logger, string reason, RedisUnavailablePolicy fallback);

    [LoggerMessage(EventId = 311, EventName = "RedisRestored", Level = LogLevel.Information,
        Message = "Redis is available again after {Outage}; rate limits and the response cache are shared again")]
    public static partial void Restored(ILogger logger, TimeSpan outage);

    [LoggerMessage(EventId = 312, EventName = "RedisConnected", Level = LogLevel.Information,
        Message = "Connected to Redis at {Endpoints}")]
    public static partial void Connected(ILogger logger, string endpoints);
}
