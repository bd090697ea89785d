namespace Balancing.Strategies;

/// <summary>Gives each candidate a turn. One interlocked increment per pick; no lock, no allocation.</summary>
internal sealed class RoundRobinStrategy : ILoadStrategy
{
    // Starts at -1 so that the first pick goes to the first backend.
    private int _counter = -1;

    public string Name => LoadStrategyNames.RoundRobin;

    public BackendState? Pick(ReadOnlySpan<BackendState> candidates, in BalancingContext context)
    {
        if (candidates.IsEmpty)
        {
            return null;
        }

        // The unsigned remainder keeps the index valid when the counter wraps past int.MaxValue.
        var next = (uint)Interlocked.Increment(ref _counter);
        return candidates[(int)(next % (uint)candidates.Length)];
    }
}
