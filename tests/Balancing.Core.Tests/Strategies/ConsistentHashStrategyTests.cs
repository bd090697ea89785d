using System.Net;
using Balancing.Pools;
using Balancing.Strategies;

namespace Balancing.Core.Tests.Strategies;

[TestClass]
public sealed class ConsistentHashStrategyTests
{
    private const int KeyCount = 10_000;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void Name_IsTheConsistentHashConstant()
    {
        Assert.AreEqual(LoadStrategyNames.ConsistentHash, new ConsistentHashStrategy().Name);
    }

    [TestMethod]
    public void Pick_NoCandidates_ReturnsNull()
    {
        Assert.IsNull(new ConsistentHashStrategy().Pick([], new BalancingContext(null, "k")));
    }

    [TestMethod]
    public void Pick_SameKey_AlwaysTheSameBackend()
    {
        var pool = Pool(10);
        var first = Place(pool, Keys(1_000));

        for (var round = 0; round < 3; round++)
        {
            CollectionAssert.AreEqual(first, Place(pool, Keys(1_000)), $"round {round}");
        }
    }

    [TestMethod]
    public void Pick_SameKeyOnAnotherInstanceWithTheSameBackends_SameBackend()
    {
        // Two balancers configured alike agree, whatever order they list the backends in: hashes are stable.
        var one = Pool(10);
        var other = Pool(10, reverse: true);

        CollectionAssert.AreEqual(Place(one, Keys(1_000)), Place(other, Keys(1_000)));
    }

    [TestMethod]
    public void Pick_ManyKeys_SpreadEvenly()
    {
        var pool = Pool(10);

        var shares = Place(pool, Keys(KeyCount)).GroupBy(id => id).ToDictionary(g => g.Key, g => g.Count());

        TestContext.WriteLine(string.Join(", ", shares.OrderBy(s => s.Key).Select(s => $"{s.Key}={s.Value}")));
        Assert.HasCount(10, shares);
        foreach (var (id, count) in shares)
        {
            Assert.IsTrue(count is > 850 and < 1_150, $"{id} got {count} of {KeyCount} keys");
        }
    }

    [TestMethod]
    public void Pick_OneOfTenBackendsRemoved_MovesItsKeysAndFewOthers()
    {
        var pool = Pool(10);
        var keys = Keys(KeyCount);
        var before = Place(pool, keys);

        pool.Update(Options(10, except: "b3"), strategy: null);
        var after = Place(pool, keys);

        var moved = Enumerable.Range(0, keys.Length).Count(i => before[i] != after[i]);
        var survivorsKeys = Enumerable.Range(0, keys.Length).Where(i => before[i] != "b3").ToList();
        var survivorsMoved = survivorsKeys.Count(i => before[i] != after[i]);
        TestContext.WriteLine($"moved {moved} of {KeyCount}; keys of surviving backends moved: {survivorsMoved} of {survivorsKeys.Count}");

        Assert.DoesNotContain("b3", after);
        Assert.IsTrue(moved is >= KeyCount / 10 - 150 and <= KeyCount / 5, $"moved {moved}");
        Assert.IsLessThan(survivorsKeys.Count / 10, survivorsMoved, "keys of surviving backends mostly stay");
    }

    [TestMethod]
    public void Pick_BackendAdded_TakesAbout1OverNOfTheKeysFromTheOthers()
    {
        var pool = Pool(9);
        var keys = Keys(KeyCount);
        var before = Place(pool, keys);

        pool.Update(Options(10), strategy: null);
        var after = Place(pool, keys);

        var moved = Enumerable.Range(0, keys.Length).Count(i => before[i] != after[i]);
        var toNew = after.Count(id => id == "b9");
        TestContext.WriteLine($"moved {moved} of {KeyCount}; {toNew} to the new backend");
        Assert.IsTrue(toNew is > 850 and < 1_150, $"the new backend got {toNew}");
        Assert.IsLessThanOrEqualTo(KeyCount / 5, moved);
    }

    [TestMethod]
    public void Pick_BackendTurnsUnhealthy_ItsKeysMoveAndComeBackWhenItRecovers()
    {
        var pool = Pool(5);
        var keys = Keys(2_000);
        var before = Place(pool, keys);
        var b2 = pool.FindBackend("b2")!;

        b2.SetHealth(BackendHealth.Unhealthy, "test", DateTimeOffset.UnixEpoch);
        var during = Place(pool, keys);
        b2.SetHealth(BackendHealth.Healthy, "test", DateTimeOffset.UnixEpoch);
        var afterwards = Place(pool, keys);

        Assert.DoesNotContain("b2", during);
        CollectionAssert.AreEqual(before, afterwards);
    }

    [TestMethod]
    public void Pick_Weights_ShiftKeySharesInProportion()
    {
        var options = Options(3);
        options.Backends["b2"].Weight = 2;
        var pool = Pool(options);

        var shares = Place(pool, Keys(20_000)).GroupBy(id => id).ToDictionary(g => g.Key, g => g.Count() / 20_000.0);

        TestContext.WriteLine(string.Join(", ", shares.OrderBy(s => s.Key).Select(s => $"{s.Key}={s.Value:P1}")));
        Assert.AreEqual(0.25, shares["b0"], 0.02);
        Assert.AreEqual(0.25, shares["b1"], 0.02);
        Assert.AreEqual(0.50, shares["b2"], 0.02);
    }

    [TestMethod]
    public void Pick_WeightChanged_SharesFollowTheNewWeights()
    {
        var pool = Pool(4);
        var keys = Keys(KeyCount);
        Place(pool, keys);

        var options = Options(4);
        options.Backends["b0"].Weight = 3;
        pool.Update(options, strategy: null);
        var share = Place(pool, keys).Count(id => id == "b0") / (double)KeyCount;

        Assert.AreEqual(0.5, share, 0.03);
    }

    [TestMethod]
    [DataRow(0.25)]
    [DataRow(0.1)]
    [DataRow(1.0)]
    public void Pick_BoundedLoad_NoBackendExceedsCeilOfOnePlusEpsilonTimesTheAverage(double epsilon)
    {
        var options = Options(5);
        options.ConsistentHash.BoundedLoad = epsilon;
        var pool = Pool(options);
        var random = new Random(7);

        // Requests that never finish, many of them for a few hot keys: without the bound, the hot keys' backends pile up.
        for (var placed = 1; placed <= 500; placed++)
        {
            var key = random.Next(4) == 0 ? $"user-{random.Next(1_000)}" : $"hot-{random.Next(2)}";
            Pick(pool, key).RequestStarted();

            var bound = Math.Ceiling((1 + epsilon) * placed / 5);
            var busiest = pool.Backends.Max(b => b.InFlight);
            Assert.IsLessThanOrEqualTo(bound, busiest, $"after {placed} requests");
        }

        TestContext.WriteLine(string.Join(", ", pool.Backends.Select(b => $"{b.Id}={b.InFlight}")));
    }

    [TestMethod]
    public void Pick_BoundedLoadOff_EveryRequestOfAKeyReachesItsBackend()
    {
        var options = Options(5);
        options.ConsistentHash.BoundedLoad = 0;
        var pool = Pool(options);
        var home = Pick(pool, "hot");

        for (var i = 0; i < 100; i++)
        {
            Assert.AreSame(home, Pick(pool, "hot"));
            home.RequestStarted();
        }
    }

    [TestMethod]
    public void Pick_BoundedLoad_SpilledKeyReturnsHomeWhenItsBackendQuietsDown()
    {
        var pool = Pool(Options(4));
        var home = Pick(pool, "hot");
        for (var i = 0; i < 10; i++)
        {
            home.RequestStarted();
        }

        var spilled = Pick(pool, "hot");
        for (var i = 0; i < 10; i++)
        {
            home.RequestCompleted(BackendOutcome.Success);
        }

        Assert.AreNotSame(home, spilled);
        Assert.AreSame(home, Pick(pool, "hot"));
    }

    [TestMethod]
    public void Pick_RetryWithoutTheKeysBackend_GoesToTheSameNextBackendEveryTime()
    {
        var pool = Pool(6);
        var all = pool.AvailableBackends.ToArray();
        foreach (var key in Keys(200))
        {
            var home = Pick(pool, key);
            var others = all.Where(b => b != home).ToArray();

            var retry = new ConsistentHashPicker(pool).Pick(others, key);

            Assert.AreNotSame(home, retry);
            Assert.AreSame(retry, new ConsistentHashPicker(pool).Pick(others, key), key);
        }
    }

    [TestMethod]
    public void Pick_SubsetThatStillHoldsTheKeysBackend_PicksIt()
    {
        var pool = Pool(6);
        var all = pool.AvailableBackends.ToArray();
        foreach (var key in Keys(200))
        {
            var home = Pick(pool, key);
            var subset = all.Where(b => b == home || b.Id is "b0" or "b5").ToArray();

            Assert.AreSame(home, new ConsistentHashPicker(pool).Pick(subset, key), key);
        }
    }

    [TestMethod]
    public void Pick_NoKey_HashesTheClientAddress()
    {
        var pool = Pool(10);
        var strategy = (ConsistentHashStrategy)pool.Strategy;
        var addresses = Enumerable.Range(1, 200).Select(i => IPAddress.Parse($"203.0.113.{i}")).ToArray();

        var first = addresses.Select(a => strategy.Pick(pool.AvailableBackends.AsSpan(), new BalancingContext(a))!.Id).ToArray();
        var again = addresses.Select(a => strategy.Pick(pool.AvailableBackends.AsSpan(), new BalancingContext(a))!.Id).ToArray();
        var mapped = addresses.Select(a => strategy.Pick(pool.AvailableBackends.AsSpan(), new BalancingContext(a.MapToIPv6()))!.Id).ToArray();

        CollectionAssert.AreEqual(first, again);
        CollectionAssert.AreEqual(first, mapped, "an IPv4 client seen through a dual-stack socket is the same client");
        Assert.IsGreaterThan(5, first.Distinct().Count());
    }

    [TestMethod]
    public void Pick_NeitherKeyNorAddress_SpreadsOverEveryCandidate()
    {
        var pool = Pool(4);
        var strategy = (ConsistentHashStrategy)pool.Strategy;

        var picked = Enumerable.Range(0, 400).Select(_ => strategy.Pick(pool.AvailableBackends.AsSpan(), new BalancingContext(null))!.Id).ToHashSet();

        Assert.HasCount(4, picked);
    }

    [TestMethod]
    public void Pick_NotInAPool_BuildsItsTableFromTheCandidates()
    {
        var strategy = new ConsistentHashStrategy();
        BackendState[] ten = [.. Enumerable.Range(0, 10).Select(i => new BackendState($"b{i}", new Uri($"http://b{i}.test")))];
        BackendState[] nine = [.. ten.Where(b => b.Id != "b3")];
        var keys = Keys(KeyCount);

        var before = keys.Select(k => strategy.Pick(ten, new BalancingContext(null, k))!.Id).ToArray();
        var after = keys.Select(k => strategy.Pick(nine, new BalancingContext(null, k))!.Id).ToArray();

        var pooled = Place(Pool(10), keys);
        CollectionAssert.AreEqual(pooled, before, "the same table as in a pool");
        Assert.IsLessThanOrEqualTo(KeyCount / 5, Enumerable.Range(0, keys.Length).Count(i => before[i] != after[i]));
    }

    [TestMethod]
    public void Table_TableSizeSetting_IsUsedAndGrowsForLargePools()
    {
        var small = Options(3);
        small.ConsistentHash.TableSize = 1009;
        var large = Options(20);
        large.ConsistentHash.TableSize = 1009;

        Assert.AreEqual(1009, ((ConsistentHashStrategy)Pool(small).Strategy).Table!.Size);
        Assert.AreEqual(2003, ((ConsistentHashStrategy)Pool(large).Strategy).Table!.Size, "the first prime from 100 slots per backend");
    }

    [TestMethod]
    public void Pick_AfterWarmUp_AllocatesNothing()
    {
        var pool = Pool(10);
        var strategy = (ConsistentHashStrategy)pool.Strategy;
        var keys = Keys(64);
        var address = IPAddress.Parse("203.0.113.7");
        foreach (var key in keys)
        {
            strategy.Pick(pool.AvailableBackends.AsSpan(), new BalancingContext(address, key));
        }

        pool.FindBackend("b4")!.RequestStarted();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            strategy.Pick(pool.AvailableBackends.AsSpan(), new BalancingContext(address, keys[i & 63]));
            strategy.Pick(pool.AvailableBackends.AsSpan(), new BalancingContext(address));
        }

        Assert.AreEqual(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static string[] Keys(int count) => [.. Enumerable.Range(0, count).Select(i => $"user-{i}")];

    private static PoolOptions Options(int backends, string? except = null)
    {
        var options = new PoolOptions { Strategy = LoadStrategyNames.ConsistentHash };
        for (var i = 0; i < backends; i++)
        {
            if ($"b{i}" != except)
            {
                options.Backends[$"b{i}"] = new BackendOptions { Address = $"http://b{i}.test" };
            }
        }

        return options;
    }

    private static ServerPool Pool(int backends, bool reverse = false)
    {
        if (!reverse)
        {
            return Pool(Options(backends));
        }

        var options = new PoolOptions { Strategy = LoadStrategyNames.ConsistentHash };
        for (var i = backends - 1; i >= 0; i--)
        {
            options.Backends[$"b{i}"] = new BackendOptions { Address = $"http://b{i}.test" };
        }

        return Pool(options);
    }

    private static ServerPool Pool(PoolOptions options) => new("default", options, new ConsistentHashStrategy(), TimeProvider.System);

    private static BackendState Pick(ServerPool pool, string key)
        => pool.Strategy.Pick(pool.AvailableBackends.AsSpan(), new BalancingContext(null, key))!;

    private static string[] Place(ServerPool pool, string[] keys) => [.. keys.Select(k => Pick(pool, k).Id)];

    /// <summary>Picks among a subset of the pool's backends, as a retry does.</summary>
    private sealed class ConsistentHashPicker(ServerPool pool)
    {
        public BackendState Pick(BackendState[] candidates, string key)
            => pool.Strategy.Pick(candidates, new BalancingContext(null, key))!;
    }
}
