using System.Runtime.CompilerServices;
using Balancing.Pools;

namespace Balancing.Core.Tests.Strategies;

/// <summary>Backends with weights, pools around a strategy, and counting of picks.</summary>
internal static class StrategyHarness
{
    public static readonly DateTimeOffset Start = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

    /// <summary>Backends named a, b, c... (or b0, b1... past 26) with the given weights.</summary>
    public static BackendState[] Backends(params int[] weights)
        => weights.Select((weight, i) => new BackendState(Name(i, weights.Length), new Uri($"http://{Name(i, weights.Length)}.test"), weight)).ToArray();

    /// <summary>A pool over backends named as <see cref="Backends"/> names them, choosing with <paramref name="strategy"/>.</summary>
    public static ServerPool Pool(ILoadStrategy strategy, TimeProvider timeProvider, TimeSpan slowStart, params int[] weights)
        => new("default", Options(slowStart, weights), strategy, timeProvider);

    public static PoolOptions Options(TimeSpan slowStart, params int[] weights)
    {
        var options = new PoolOptions { SlowStart = slowStart };
        for (var i = 0; i < weights.Length; i++)
        {
            options.Backends[Name(i, weights.Length)] = new BackendOptions { Address = $"http://{Name(i, weights.Length)}.test", Weight = weights[i] };
        }

        return options;
    }

    public static BackendState? PickFrom(this ServerPool pool) => pool.Strategy.Pick(pool.AvailableBackends.AsSpan(), default);

    /// <summary>How many of <paramref name="picks"/> picks went to each of <paramref name="candidates"/>.</summary>
    public static int[] Counts(ILoadStrategy strategy, BackendState[] candidates, int picks)
    {
        var counts = new int[candidates.Length];
        for (var i = 0; i < picks; i++)
        {
            counts[Array.IndexOf(candidates, strategy.Pick(candidates, default))]++;
        }

        return counts;
    }

    /// <summary>How many of <paramref name="picks"/> picks from the pool's snapshot went to each backend, in pool order.</summary>
    public static int[] Counts(ServerPool pool, int picks)
    {
        var backends = pool.Backends.ToArray();
        var counts = new int[backends.Length];
        for (var i = 0; i < picks; i++)
        {
            counts[Array.IndexOf(backends, pool.PickFrom())]++;
        }

        return counts;
    }

    public static string Sequence(ILoadStrategy strategy, BackendState[] candidates, int picks)
        => string.Join(' ', Enumerable.Range(0, picks).Select(_ => strategy.Pick(candidates, default)?.Id ?? "-"));

    public static string Sequence(ServerPool pool, int picks)
        => string.Join(' ', Enumerable.Range(0, picks).Select(_ => pool.PickFrom()?.Id ?? "-"));

    /// <summary>Bytes allocated on this thread by <paramref name="picks"/> picks, after as many to warm up.</summary>
    public static long AllocatedByPicks(ILoadStrategy strategy, BackendState[] candidates, int picks = 10_000)
    {
        PickMany(strategy, candidates, picks);
        var before = GC.GetAllocatedBytesForCurrentThread();
        PickMany(strategy, candidates, picks);
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    /// <summary>Starts requests on <paramref name="backend"/> so that its in-flight count is <paramref name="inFlight"/>.</summary>
    public static BackendState WithInFlight(this BackendState backend, int inFlight)
    {
        for (var i = 0; i < inFlight; i++)
        {
            backend.RequestStarted();
        }

        return backend;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void PickMany(ILoadStrategy strategy, BackendState[] candidates, int picks)
    {
        for (var i = 0; i < picks; i++)
        {
            _ = strategy.Pick(candidates, default);
        }
    }

    private static string Name(int index, int count) => count <= 26 ? ((char)('a' + index)).ToString() : $"b{index}";
}

/// <summary>A clock that counts how often it is read, to prove the hot path leaves it alone.</summary>
internal sealed class CountingTimeProvider(DateTimeOffset start) : TimeProvider
{
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _clock = new(start);
    private int _reads;

    public int Reads => Volatile.Read(ref _reads);

    public void Advance(TimeSpan delta) => _clock.Advance(delta);

    public override DateTimeOffset GetUtcNow()
    {
        Interlocked.Increment(ref _reads);
        return _clock.GetUtcNow();
    }
}
