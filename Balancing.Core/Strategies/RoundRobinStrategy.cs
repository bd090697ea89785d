namespace Balancing.Strategies;

/// <summary>Gives each candidate a turn. One interlocked increment per pick; no lock, no allocation.</summary>
internal sealed class RoundRobinStrategy : ILoadStrategy
{
    // Starts at -1 so that the first pick goes to the first backend. 64 bits never wrap in practice, so the
    // turn order never stutters (a 32-bit counter would repeat a backend every 2^32 picks).
    private long _counter = -1;

    public string Name => LoadStrategyNames.RoundRobin;

    public BackendState? Pick(ReadOnlySpan<BackendState> candidates, in BalancingContext context)
    {
        if (candidates.IsEmpty)
        {
            return null;
        }

        var next = (ulong)Interlocked.Increment(ref _counter);
        return candidates[(int)(next % (ulong)candidates.Length)];
    }
}
