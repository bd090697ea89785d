namespace Balancing.Statistics;

/// <summary>
/// The results of the response cache (the <c>result</c> tag of <c>balancing.cache.requests</c>), and one pool's totals of
/// them as last observed: the meter's running totals, read when statistics are taken.
/// </summary>
internal sealed class CacheCounts
{
    public const string Hit = "hit";
    public const string Miss = "miss";
    public const string Revalidated = "revalidated";
    public const string Coalesced = "coalesced";
    public const string Bypass = "bypass";
    public const string Stale = "stale";

    /// <summary>Every result, in the order of <see cref="IndexOf"/>.</summary>
    public static readonly string[] Results = [Hit, Miss, Revalidated, Coalesced, Bypass, Stale];

    private readonly long[] _totals = new long[Results.Length];

    /// <summary>The position of <paramref name="result"/> in <see cref="Results"/>, or -1 for an unknown one.</summary>
    public static int IndexOf(string result) => result switch
    {
        Hit => 0,
        Miss => 1,
        Revalidated => 2,
        Coalesced => 3,
        Bypass => 4,
        Stale => 5,
        _ => -1,
    };

    /// <summary>Sets the total of <paramref name="result"/> to <paramref name="total"/> (an observed running total).</summary>
    public void Set(string result, long total)
    {
        var index = IndexOf(result);
        if (index >= 0)
        {
            Volatile.Write(ref _totals[index], total);
        }
    }

    public CacheStatistics ToStatistics() => new()
    {
        Hits = Read(Hit),
        Misses = Read(Miss),
        Revalidated = Read(Revalidated),
        Coalesced = Read(Coalesced),
        Bypassed = Read(Bypass),
        ServedStale = Read(Stale),
    };

    private long Read(string result) => Volatile.Read(ref _totals[IndexOf(result)]);
}
