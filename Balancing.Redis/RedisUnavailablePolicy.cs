namespace Balancing;

/// <summary>What rate limiting does while the shared Redis cannot be reached.</summary>
public enum RedisUnavailablePolicy
{
    /// <summary>Each instance counts on its own, as without Redis: every instance allows the full limit until Redis is back.</summary>
    LocalFallback,

    /// <summary>Every request that a limit applies to is refused with 429 until Redis is back.</summary>
    FailClosed,
}
