namespace Balancing;

/// <summary>How many times something happened (a retry, an ejection) over the last 10 seconds and the last minute.</summary>
public sealed record RecentCounts
{
    /// <summary>Gets the count over the 10 most recent completed seconds.</summary>
    public required long Last10Seconds { get; init; }

    /// <summary>Gets the count over the 60 most recent completed seconds.</summary>
    public required long LastMinute { get; init; }
}
