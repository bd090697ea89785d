using System.Runtime.InteropServices;
using Balancing.Pools;
using Balancing.Strategies;
using BenchmarkDotNet.Attributes;

namespace Balancing.Benchmarks;

/// <summary>
/// One pick of each strategy over a pool's own snapshot, as the sender makes it, for pools of 3 to 1,000 backends of mixed
/// weights (1 to 4) with a few requests in flight. Every pick should allocate nothing.
/// </summary>
[MemoryDiagnoser]
public class StrategyBenchmarks
{
    private ServerPool _roundRobin = null!;
    private ServerPool _weightedRoundRobin = null!;
    private ServerPool _leastConnections = null!;
    private ServerPool _powerOfTwoChoices = null!;
    private ServerPool _random = null!;

    [Params(3, 100, 1000)]
    public int Backends { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _roundRobin = CreatePool(new RoundRobinStrategy());
        _weightedRoundRobin = CreatePool(new WeightedRoundRobinStrategy());
        _leastConnections = CreatePool(new LeastConnectionsStrategy());
        _powerOfTwoChoices = CreatePool(new PowerOfTwoChoicesStrategy());
        _random = CreatePool(new RandomStrategy());
    }

    [Benchmark(Baseline = true)]
    public BackendState? RoundRobin() => Pick(_roundRobin);

    [Benchmark]
    public BackendState? WeightedRoundRobin() => Pick(_weightedRoundRobin);

    [Benchmark]
    public BackendState? LeastConnections() => Pick(_leastConnections);

    [Benchmark]
    public BackendState? PowerOfTwoChoices() => Pick(_powerOfTwoChoices);

    [Benchmark]
    public BackendState? Random() => Pick(_random);

    private static BackendState? Pick(ServerPool pool) => pool.Strategy.Pick(pool.AvailableBackends.AsSpan(), default);

    private ServerPool CreatePool(ILoadStrategy strategy)
    {
        var options = new PoolOptions();
        for (var i = 0; i < Backends; i++)
        {
            options.Backends[$"b{i}"] = new BackendOptions { Address = $"http://10.0.{i / 250}.{(i % 250) + 1}:8080", Weight = 1 + (i % 4) };
        }

        var pool = new ServerPool("default", options, strategy, TimeProvider.System);

        // Some load, so that the load-aware strategies compare real counts rather than settle ties.
        var backends = ImmutableCollectionsMarshal.AsArray(pool.Backends)!;
        for (var i = 0; i < backends.Length; i += 3)
        {
            backends[i].RequestStarted();
        }

        return pool;
    }
}
