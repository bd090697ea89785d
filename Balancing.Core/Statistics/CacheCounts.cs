namespace Balancing.Statistics;

/// <summary>One pool's cache results as last observed: the meter's running totals, read when statistics are taken.</summary>
internal sealed class CacheCounts
{
    public const string Hit = "hit";
    public const string Miss = "miss";
    public const string Revalidated = "revalidated";
    public const string Coalesced = "coalesced";
    public const string Bypass = "bypass";
    public const string Stale = "stale";

    private long _hits;
    private long _misses;
    private long _revalidated;
    private long _coalesced;
    private long _bypassed;
    private long _stale;

    /// <summary>Sets the total of <paramref name="result"/> to <paramref name="total"/> (an observed running total).</summary>
    public void Set(string result, long total)
    {
        switch (result)
        {
            case Hit:
                Volatile.Write(ref _hits, total);
                break;
            case Miss:
                Volatile.Write(ref _misses, total);
                break;
            case Revalidated:
                Volatile.Write(ref _revalidated, total);
                break;
            case Coalesced:
                Volatile.Write(ref _coalesced, total);
                break;
            case Bypass:
                Volatile.Write(ref _bypassed, total);
                break;
            case Stale:
                Volatile.Write(ref _stale, total);
                break;
        }
    }

    public CacheStatistics ToStatistics() => new()
    {
        Hits = Volatile.Read(ref _hits),
        Misses = Volatile.Read(ref _misses),
        Revalidated = Volatile.Read(ref _revalidated),
        Coalesced = Volatile.Read(ref _coalesced),
        Bypassed = Volatile.Read(ref _bypassed),
        ServedStale = Volatile.Read(ref _stale),
    };
}
