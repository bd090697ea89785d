namespace Balancing.Statistics;

/// <summary>The running totals of one pool's cache results; lock-free.</summary>
internal sealed class CacheCounts
{
    public const string Hit = "hit";
    public const string Miss = "miss";
    public const string Revalidated = "revalidated";
    public const string Coalesced = "coalesced";
    public const string Bypass = "bypass";

    private long _hits;
    private long _misses;
    private long _revalidated;
    private long _coalesced;
    private long _bypassed;

    public void Record(string result, long count)
    {
        switch (result)
        {
            case Hit:
                Interlocked.Add(ref _hits, count);
                break;
            case Miss:
                Interlocked.Add(ref _misses, count);
                break;
            case Revalidated:
                Interlocked.Add(ref _revalidated, count);
                break;
            case Coalesced:
                Interlocked.Add(ref _coalesced, count);
                break;
            case Bypass:
                Interlocked.Add(ref _bypassed, count);
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
    };
}
