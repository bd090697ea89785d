using System.Reflection;
using System.Runtime.CompilerServices;
using Balancing.Strategies;

namespace Balancing.Core.Tests.Strategies;

[TestClass]
public sealed class RoundRobinStrategyTests
{
    private static readonly BackendState[] Backends =
    [
        new("a", new Uri("http://a.test")),
        new("b", new Uri("http://b.test")),
        new("c", new Uri("http://c.test")),
    ];

    [TestMethod]
    public void Name_IsTheRoundRobinConstant()
    {
        var strategy = new RoundRobinStrategy();

        Assert.AreEqual(LoadStrategyNames.RoundRobin, strategy.Name);
    }

    [TestMethod]
    public void Pick_ThreeCandidates_GivesEachATurnInOrder()
    {
        var strategy = new RoundRobinStrategy();

        var picked = PickIds(strategy, Backends, 7);

        Assert.AreSequenceEqual(new[] { "a", "b", "c", "a", "b", "c", "a" }, picked);
    }

    [TestMethod]
    public void Pick_WeightedBackends_IgnoresWeights()
    {
        BackendState[] weighted = [new("a", new Uri("http://a.test"), 5), new("b", new Uri("http://b.test"), 1), new("c", new Uri("http://c.test"), 1)];

        var picked = PickIds(new RoundRobinStrategy(), weighted, 6);

        Assert.AreSequenceEqual(new[] { "a", "b", "c", "a", "b", "c" }, picked);
    }

    [TestMethod]
    public void Pick_NoCandidates_ReturnsNull()
    {
        var strategy = new RoundRobinStrategy();

        var picked = strategy.Pick([], new BalancingContext(null));

        Assert.IsNull(picked);
    }

    [TestMethod]
    public void Pick_CounterWrapsPastIntMaxValue_KeepsCyclingInOrder()
    {
        var strategy = new RoundRobinStrategy();
        SetCounter(strategy, int.MaxValue - 3);

        var indices = PickIds(strategy, Backends, 9).Select(id => Array.FindIndex(Backends, b => b.Id == id)).ToArray();

        // The counter goes int.MaxValue - 2 ... int.MinValue + 5: every pick is the one after the previous.
        for (var i = 1; i < indices.Length; i++)
        {
            Assert.AreEqual((indices[i - 1] + 1) % Backends.Length, indices[i], $"pick {i} after the wrap");
        }
    }

    [TestMethod]
    public void Pick_CounterPastUIntMaxValue_KeepsCyclingInOrder()
    {
        var strategy = new RoundRobinStrategy();
        SetCounter(strategy, uint.MaxValue - 3L);

        var indices = new List<int>();
        for (var i = 0; i < 20; i++)
        {
            indices.Add(Array.IndexOf(Backends, strategy.Pick(Backends, new BalancingContext(null))));
        }

        for (var i = 1; i < indices.Count; i++)
        {
            Assert.AreEqual((indices[i - 1] + 1) % Backends.Length, indices[i], $"pick {i} around 2^32");
        }
    }

    [TestMethod]
    public void Pick_AfterWarmUp_AllocatesNothing()
    {
        var strategy = new RoundRobinStrategy();
        PickMany(strategy, Backends, 10_000);

        var before = GC.GetAllocatedBytesForCurrentThread();
        PickMany(strategy, Backends, 10_000);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.AreEqual(0L, allocated);
    }

    [TestMethod]
    public async Task Pick_FourThreadsAtOnce_DistributesExactlyEvenly()
    {
        const int Threads = 4;
        const int PicksPerThread = 30_000;
        var strategy = new RoundRobinStrategy();
        using var start = new Barrier(Threads);
        var counts = new int[Threads][];

        var workers = Enumerable.Range(0, Threads).Select(t => Task.Factory.StartNew(
            () =>
            {
                var local = new int[Backends.Length];
                start.SignalAndWait();
                for (var i = 0; i < PicksPerThread; i++)
                {
                    local[Array.IndexOf(Backends, strategy.Pick(Backends, new BalancingContext(null)))]++;
                }

                counts[t] = local;
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)).ToArray();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60));

        var totals = Enumerable.Range(0, Backends.Length).Select(b => counts.Sum(c => c[b])).ToArray();
        Assert.AreSequenceEqual(new[] { 40_000, 40_000, 40_000 }, totals);
    }

    private static string[] PickIds(RoundRobinStrategy strategy, BackendState[] candidates, int count)
    {
        var ids = new string[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = strategy.Pick(candidates, new BalancingContext(null))?.Id ?? "(null)";
        }

        return ids;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void PickMany(RoundRobinStrategy strategy, BackendState[] candidates, int count)
    {
        var context = new BalancingContext(null);
        for (var i = 0; i < count; i++)
        {
            _ = strategy.Pick(candidates, in context);
        }
    }

    private static void SetCounter(RoundRobinStrategy strategy, long value)
    {
        var field = typeof(RoundRobinStrategy).GetField("_counter", BindingFlags.Instance | BindingFlags.NonPublic)
            ?? throw new AssertFailedException("RoundRobinStrategy has no _counter field any more.");
        field.SetValue(strategy, value);
    }
}
