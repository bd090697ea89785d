using System.Net;
using Balancing;
using Balancing.Pools;
using Balancing.Strategies;
using BenchmarkDotNet.Attributes;

namespace Balancing.Benchmarks;

/// <summary>
/// One pick of the load-aware strategies over pools of 3, 100 and 1000 backends, each strategy attached to a real pool as
/// in the balancer. Both must allocate nothing; ConsistentHash's bounded load sums the pool's in-flight counts only when
/// the key's backend is busy, which the "busy" case forces.
/// </summary>
[MemoryDiagnoser]
public class LoadAwareStrategyBenchmarks
{
    private static readonly IPAddress Client = IPAddress.Parse("203.0.113.7");

    private ServerPool _peakEwmaPool = null!;
    private ServerPool _hashPool = null!;
    private ServerPool _busyHashPool = null!;
    private string[] _keys = null!;
    private int _next;

    [Params(3, 100, 1000)]
    public int Backends { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _peakEwmaPool = new ServerPool("ewma", Options(LoadStrategyNames.PeakEwma), new PeakEwmaStrategy(TimeProvider.System), TimeProvider.System);
        var decay = _peakEwmaPool.Options.PeakEwma.DecayTime;
        var i = 0;
        foreach (var backend in _peakEwmaPool.Backends)
        {
            backend.RecordLatency(TimeSpan.FromMilliseconds(1 + (i++ % 7)), decay, TimeProvider.System);
        }

        _hashPool = new ServerPool("hash", Options(LoadStrategyNames.ConsistentHash), new ConsistentHashStrategy(), TimeProvider.System);
        _busyHashPool = new ServerPool("busy", Options(LoadStrategyNames.ConsistentHash), new ConsistentHashStrategy(), TimeProvider.System);
        foreach (var backend in _busyHashPool.Backends)
        {
            backend.RequestStarted();
        }

        _keys = [.. Enumerable.Range(0, 1024).Select(k => $"session-{k:x8}")];
    }

    [Benchmark(Description = "PeakEwma pick")]
    public BackendState? PeakEwma() => _peakEwmaPool.Strategy.Pick(_peakEwmaPool.AvailableBackends.AsSpan(), new BalancingContext(Client));

    [Benchmark(Description = "ConsistentHash pick, string key")]
    public BackendState? ConsistentHashKey()
        => _hashPool.Strategy.Pick(_hashPool.AvailableBackends.AsSpan(), new BalancingContext(Client, _keys[_next++ & 1023]));

    [Benchmark(Description = "ConsistentHash pick, client address")]
    public BackendState? ConsistentHashAddress() => _hashPool.Strategy.Pick(_hashPool.AvailableBackends.AsSpan(), new BalancingContext(Client));

    [Benchmark(Description = "ConsistentHash pick, string key, every backend busy (bounded load sums)")]
    public BackendState? ConsistentHashBusy()
        => _busyHashPool.Strategy.Pick(_busyHashPool.AvailableBackends.AsSpan(), new BalancingContext(Client, _keys[_next++ & 1023]));

    private PoolOptions Options(string strategy)
    {
        var options = new PoolOptions { Strategy = strategy };
        for (var i = 0; i < Backends; i++)
        {
            options.Backends[$"b{i}"] = new BackendOptions { Address = $"http://b{i}.test:8080" };
        }

        return options;
    }
}
