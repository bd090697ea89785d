using System.Reflection;
using Balancing.Pools;
using Balancing.Strategies;
using Microsoft.Extensions.Time.Testing;

namespace Balancing.Core.Tests.Pools;

[TestClass]
public sealed class ServerPoolTests
{
    private static readonly DateTimeOffset Now = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [TestMethod]
    public void Backends_AreInConfigurationOrder()
    {
        var pool = CreatePool(Options(("b1", "http://b1.test"), ("b2", "http://b2.test"), ("b3", "http://b3.test")));

        Assert.AreSequenceEqual(new[] { "b1", "b2", "b3" }, pool.Backends.Select(b => b.Id));
    }

    [TestMethod]
    public void AvailableBackends_AllAvailable_IsEveryBackend()
    {
        var pool = CreatePool(Options(("b1", "http://b1.test"), ("b2", "http://b2.test")));

        Assert.AreSequenceEqual(pool.Backends, pool.AvailableBackends);
    }

    [TestMethod]
    public void AvailableBackends_WeightZero_ExcludesThatBackend()
    {
        var options = Options(("b1", "http://b1.test"), ("b2", "http://b2.test"));
        options.Backends["b2"].Weight = 0;

        var pool = CreatePool(options);

        Assert.AreSequenceEqual(new[] { "b1" }, pool.AvailableBackends.Select(b => b.Id));
    }

    [TestMethod]
    public void AvailableBackends_BackendTurnsUnhealthy_ExcludesIt()
    {
        var pool = CreatePool(Options(("b1", "http://b1.test"), ("b2", "http://b2.test"), ("b3", "http://b3.test")));

        pool.Backends[1].SetHealth(BackendHealth.Unhealthy, "probe failed", Now);

        Assert.AreSequenceEqual(new[] { "b1", "b3" }, pool.AvailableBackends.Select(b => b.Id));
    }

    [TestMethod]
    public void AvailableBackends_BackendRecovers_IncludesItAgainInOrder()
    {
        var pool = CreatePool(Options(("b1", "http://b1.test"), ("b2", "http://b2.test"), ("b3", "http://b3.test")));
        pool.Backends[0].SetHealth(BackendHealth.Unhealthy, "probe failed", Now);

        pool.Backends[0].SetHealth(BackendHealth.Healthy, "probe passed", Now);

        Assert.AreSequenceEqual(new[] { "b1", "b2", "b3" }, pool.AvailableBackends.Select(b => b.Id));
    }

    [TestMethod]
    public void AvailableBackends_AllUnhealthyWithRejectPolicy_IsEmpty()
    {
        var options = Options(("b1", "http://b1.test"), ("b2", "http://b2.test"));
        options.HealthCheck.WhenTooFewHealthy = TooFewHealthyPolicy.Reject;
        var pool = CreatePool(options);

        foreach (var backend in pool.Backends)
        {
            backend.SetHealth(BackendHealth.Unhealthy, null, Now);
        }

        Assert.IsEmpty(pool.AvailableBackends);
        Assert.IsFalse(pool.IsPanicking);
    }

    [TestMethod]
    public void AvailableBackends_AllUnhealthyByDefault_PanicsAndSpreadsOverAll()
    {
        var pool = CreatePool(Options(("b1", "http://b1.test"), ("b2", "http://b2.test")));

        foreach (var backend in pool.Backends)
        {
            backend.SetHealth(BackendHealth.Unhealthy, null, Now);
        }

        Assert.HasCount(2, pool.AvailableBackends);
        Assert.IsTrue(pool.IsPanicking);
    }

    [TestMethod]
    [DataRow(1, false)]
    [DataRow(2, true)]
    public void AvailableBackends_BelowHalfHealthy_Panics(int unhealthy, bool panics)
    {
        var pool = CreatePool(Options(("b1", "http://b1.test"), ("b2", "http://b2.test"), ("b3", "http://b3.test")));

        foreach (var backend in pool.Backends.Take(unhealthy))
        {
            backend.SetHealth(BackendHealth.Unhealthy, null, Now);
        }

        Assert.AreEqual(panics, pool.IsPanicking);
        Assert.HasCount(panics ? 3 : 3 - unhealthy, pool.AvailableBackends);
    }

    [TestMethod]
    public void AvailableBackends_DrainedBackend_IsLeftOutEvenInPanic()
    {
        var options = Options(("b1", "http://b1.test"), ("b2", "http://b2.test"));
        options.Backends["b2"].Weight = 0;
        var pool = CreatePool(options);

        pool.Backends[0].SetHealth(BackendHealth.Unhealthy, null, Now);

        Assert.IsTrue(pool.IsPanicking);
        CollectionAssert.AreEqual(new[] { "b1" }, pool.AvailableBackends.Select(b => b.Id).ToArray());
    }

    [TestMethod]
    public void Update_SameNameAndAddress_KeepsStateObjectAndCounters()
    {
        var pool = CreatePool(Options(("b1", "http://b1.test"), ("b2", "http://b2.test")));
        var before = pool.FindBackend("b1")!;
        before.RequestStarted();

        pool.Update(Options(("b1", "http://b1.test"), ("b2", "http://b2.test"), ("b3", "http://b3.test")), strategy: null);

        var after = pool.FindBackend("b1")!;
        Assert.AreSame(before, after);
        Assert.AreEqual((1, 1L), (after.InFlight, after.TotalRequests));
    }

    [TestMethod]
    public void Update_SameBackend_KeepsItsHealth()
    {
        var pool = CreatePool(Options(("b1", "http://b1.test"), ("b2", "http://b2.test")));
        pool.FindBackend("b1")!.SetHealth(BackendHealth.Unhealthy, "down", Now);

        pool.Update(Options(("b1", "http://b1.test"), ("b2", "http://b2.test")), strategy: null);

        Assert.AreSequenceEqual(new[] { "b2" }, pool.AvailableBackends.Select(b => b.Id));
    }

    [TestMethod]
    public void Update_AddressChanged_CreatesNewState()
    {
        var pool = CreatePool(Options(("b1", "http://b1.test")));
        var before = pool.FindBackend("b1")!;
        before.RequestStarted();

        pool.Update(Options(("b1", "http://b1-new.test")), strategy: null);

        var after = pool.FindBackend("b1")!;
        Assert.AreNotSame(before, after);
        Assert.AreEqual((new Uri("http://b1-new.test"), 0L), (after.Address, after.TotalRequests));
    }

    [TestMethod]
    public void Update_BackendRemoved_DropsIt()
    {
        var pool = CreatePool(Options(("b1", "http://b1.test"), ("b2", "http://b2.test")));

        pool.Update(Options(("b1", "http://b1.test")), strategy: null);

        Assert.AreEqual((1, 1, (BackendState?)null), (pool.Backends.Length, pool.AvailableBackends.Length, pool.FindBackend("b2")));
    }

    [TestMethod]
    public void Update_WeightChanged_UpdatesTheExistingState()
    {
        var pool = CreatePool(Options(("b1", "http://b1.test")));
        var backend = pool.FindBackend("b1")!;
        var options = Options(("b1", "http://b1.test"));
        options.Backends["b1"].Weight = 5;

        pool.Update(options, strategy: null);

        Assert.AreEqual(5, backend.Weight);
    }

    [TestMethod]
    public void Update_WeightSetToZero_RemovesBackendFromAvailable()
    {
        var pool = CreatePool(Options(("b1", "http://b1.test"), ("b2", "http://b2.test")));
        var options = Options(("b1", "http://b1.test"), ("b2", "http://b2.test"));
        options.Backends["b1"].Weight = 0;

        pool.Update(options, strategy: null);

        Assert.AreSequenceEqual(new[] { "b2" }, pool.AvailableBackends.Select(b => b.Id));
    }

    [TestMethod]
    public void Update_NullStrategy_KeepsCurrentStrategy()
    {
        var strategy = new RoundRobinStrategy();
        var pool = new ServerPool("default", Options(("b1", "http://b1.test")), strategy, TimeProvider.System);

        pool.Update(Options(("b1", "http://b1.test")), strategy: null);

        Assert.AreSame(strategy, pool.Strategy);
    }

    [TestMethod]
    public void Update_NewStrategy_ReplacesStrategy()
    {
        var pool = CreatePool(Options(("b1", "http://b1.test")));
        var replacement = new RoundRobinStrategy();

        pool.Update(Options(("b1", "http://b1.test")), replacement);

        Assert.AreSame(replacement, pool.Strategy);
    }

    [TestMethod]
    public void Update_NewOptions_PublishesThem()
    {
        var pool = CreatePool(Options(("b1", "http://b1.test")));
        var options = Options(("b1", "http://b1.test"));

        pool.Update(options, strategy: null);

        Assert.AreSame(options, pool.Options);
    }

    [TestMethod]
    public void Update_BackendRemoved_UnsubscribesFromItsHealthChanged()
    {
        var pool = CreatePool(Options(("b1", "http://b1.test"), ("b2", "http://b2.test")));
        var removed = pool.FindBackend("b2")!;

        pool.Update(Options(("b1", "http://b1.test")), strategy: null);

        Assert.IsNull(HealthChangedHandlers(removed));
    }

    [TestMethod]
    public void Update_BackendRemoved_ItsHealthChangeLeavesAvailableUntouched()
    {
        var pool = CreatePool(Options(("b1", "http://b1.test"), ("b2", "http://b2.test"), ("b3", "http://b3.test")));
        var removed = pool.FindBackend("b3")!;
        pool.FindBackend("b1")!.SetHealth(BackendHealth.Unhealthy, null, Now);
        pool.Update(Options(("b1", "http://b1.test"), ("b2", "http://b2.test")), strategy: null);
        var before = pool.AvailableBackends;

        removed.SetHealth(BackendHealth.Unhealthy, null, Now);

        // A pool still listening would rebuild (and so replace) its available array.
        Assert.IsTrue(before == pool.AvailableBackends, "The pool reacted to the health of a backend it no longer has.");
    }

    [TestMethod]
    public void FindBackend_NameInOtherCase_FindsIt()
    {
        var pool = CreatePool(Options(("Backend-One", "http://b1.test")));

        var found = pool.FindBackend("BACKEND-one");

        Assert.AreEqual("Backend-One", found?.Id);
    }

    [TestMethod]
    public void FindBackend_UnknownName_ReturnsNull()
    {
        var pool = CreatePool(Options(("b1", "http://b1.test")));

        Assert.IsNull(pool.FindBackend("b9"));
    }

    [TestMethod]
    public void Now_ComesFromTheTimeProvider()
    {
        var clock = new FakeTimeProvider(Now);
        var pool = new ServerPool("default", Options(("b1", "http://b1.test")), new RoundRobinStrategy(), clock);

        Assert.AreEqual(Now, pool.Now);
    }

    private static ServerPool CreatePool(PoolOptions options)
        => new("default", options, new RoundRobinStrategy(), TimeProvider.System);

    private static PoolOptions Options(params (string Name, string Address)[] backends)
    {
        var options = new PoolOptions();
        foreach (var (name, address) in backends)
        {
            options.Backends[name] = new BackendOptions { Address = address };
        }

        return options;
    }

    private static Delegate? HealthChangedHandlers(BackendState backend)
    {
        var field = typeof(BackendState).GetField(nameof(BackendState.HealthChanged), BindingFlags.Instance | BindingFlags.NonPublic)
            ?? throw new AssertFailedException("BackendState.HealthChanged is no longer a field-like event.");
        return (Delegate?)field.GetValue(backend);
    }
}
