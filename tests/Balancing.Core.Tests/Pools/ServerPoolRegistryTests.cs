using Balancing.Core.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace Balancing.Core.Tests.Pools;

[TestClass]
public sealed class ServerPoolRegistryTests
{
    private const string B1 = "LoadBalancer:Pools:default:Backends:b1";

    [TestMethod]
    public void Constructor_ValidConfiguration_CreatesEveryPool()
    {
        var settings = Settings.DefaultPool();
        foreach (var (key, value) in Settings.Pool("api", ("a1", "http://a1.test")))
        {
            settings[key] = value;
        }

        using var balancer = TestBalancer.Create(settings);

        Assert.AreSequenceEqual(new[] { "api", "default" }, balancer.Registry.Pools.Select(p => p.Name).Order(StringComparer.Ordinal));
    }

    [TestMethod]
    public void Constructor_ValidConfiguration_CreatesBackendsWithAddressesAndWeights()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool().With(Settings.BackendKey("default", "b2", "Weight"), "3"));

        var backends = balancer.Pool().Backends.Select(b => (b.Id, b.AddressPrefix, b.Weight));

        Assert.AreSequenceEqual(
            new[] { ("b1", "http://b1.test:8080", 1), ("b2", "http://b2.test:8080", 3), ("b3", "http://b3.test:8080", 1) },
            backends);
    }

    [TestMethod]
    public void Constructor_ValidConfiguration_BindsPoolSettings()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool()
            .With("LoadBalancer:Pools:default:Timeout", "00:00:07")
            .With("LoadBalancer:Pools:default:PreserveHostHeader", "true"));

        var options = balancer.Pool().Options;

        Assert.AreEqual((TimeSpan.FromSeconds(7), true), (options.Timeout, options.PreserveHostHeader));
    }

    [TestMethod]
    public void TryGetPool_NameInOtherCase_FindsThePool()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());

        var found = balancer.Registry.TryGetPool("DEFAULT", out var pool);

        Assert.AreEqual((true, "default"), (found, pool?.Name));
    }

    [TestMethod]
    public void TryGetPool_UnknownName_ReturnsFalse()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());

        var found = balancer.Registry.TryGetPool("api", out var pool);

        Assert.AreEqual((false, (IServerPool?)null), (found, pool));
    }

    [TestMethod]
    public void Constructor_BadAddress_ThrowsNamingTheAddressKey()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool().With($"{B1}:Address", "ftp://b1.test"));

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.Contains($"{B1}:Address: 'ftp://b1.test' is not an absolute http or https URL", exception.Message);
    }

    [TestMethod]
    public void Constructor_UnknownStrategy_ThrowsListingKnownStrategies()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool().With("LoadBalancer:Pools:default:Strategy", "LeastRequests"));

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.Contains("LoadBalancer:Pools:default:Strategy: unknown strategy 'LeastRequests'; known strategies are ConsistentHash, LeastConnections, PeakEwma, PowerOfTwoChoices, Random, RoundRobin, WeightedRoundRobin.", exception.Message);
    }

    [TestMethod]
    public void Constructor_MisspelledKey_ThrowsNamingItsFullPath()
    {
        var settings = Settings.DefaultPool().Without($"{B1}:").With($"{B1}:Adress", "http://b1.test");
        using var balancer = TestBalancer.Create(settings);

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.Contains($"{B1}:Adress: unknown key; the keys allowed here are Address, ", exception.Message);
    }

    [TestMethod]
    public void Constructor_NegativeWeight_ThrowsNamingTheWeightKey()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool().With($"{B1}:Weight", "-2"));

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.Contains($"{B1}:Weight: must be 0 or more", exception.Message);
    }

    [TestMethod]
    public void Constructor_BadTrustedProxy_ThrowsNamingTheListEntry()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool().With("LoadBalancer:Forwarding:TrustedProxies:0", "10.0.0.300"));

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.Contains("LoadBalancer:Forwarding:TrustedProxies:0: '10.0.0.300' is neither an IP address nor a CIDR network", exception.Message);
    }

    [TestMethod]
    public void Constructor_NonConvertibleConnectionsValue_ThrowsNamingTheKey()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool().With("LoadBalancer:Connections:MaxConnectionsPerServer", "many"));

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.Contains("LoadBalancer:Connections:MaxConnectionsPerServer", exception.Message);
    }

    [TestMethod]
    public void Constructor_NonConvertibleBackendWeight_ThrowsNamingTheKey()
    {
        // Regression guard (was a bug): the binder swallows conversion errors inside dictionary entries and drops the whole entry,
        // so b1 silently disappears from the pool instead of failing start-up.
        using var balancer = TestBalancer.Create(Settings.DefaultPool().With($"{B1}:Weight", "abc"));

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.Contains($"{B1}:Weight", exception.Message);
    }

    [TestMethod]
    public void Constructor_NonConvertiblePoolTimeout_ThrowsNamingTheKey()
    {
        // Regression guard (was a bug): as above, one level up: the whole pool "default" silently disappears.
        using var balancer = TestBalancer.Create(Settings.DefaultPool().With("LoadBalancer:Pools:default:Timeout", "30s"));

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.Contains("LoadBalancer:Pools:default:Timeout", exception.Message);
    }

    [TestMethod]
    public void Constructor_SeveralErrors_ReportsThemAllTogether()
    {
        var settings = Settings.DefaultPool()
            .With($"{B1}:Address", "not a url")
            .With(Settings.BackendKey("default", "b2", "Weight"), "-1")
            .With("LoadBalancer:Pools:default:Strategy", "Fastest")
            .With("LoadBalancer:Forwarding:TrustedProxies:0", "nope")
            .With(Settings.BackendKey("default", "b3", "Wieght"), "2");
        using var balancer = TestBalancer.Create(settings);

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.AreSequenceEqual(
            new[]
            {
                "LoadBalancer:Pools:default:Backends:b3:Wieght:",
                "LoadBalancer:Pools:default:Strategy:",
                $"{B1}:Address:",
                "LoadBalancer:Pools:default:Backends:b2:Weight:",
                "LoadBalancer:Forwarding:TrustedProxies:0:",
            },
            exception.Failures.Select(KeyOf));
    }

    [TestMethod]
    public void Constructor_ConversionErrorAndValidationError_ReportsBoth()
    {
        // Regression guard (was a bug): a conversion error makes Build return before the validator runs, so only the first problem is listed.
        var settings = Settings.DefaultPool()
            .With("LoadBalancer:Connections:MaxConnectionsPerServer", "many")
            .With(Settings.BackendKey("default", "b2", "Address"), "ftp://b2.test");
        using var balancer = TestBalancer.Create(settings);

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.AreEqual(
            (true, true),
            (exception.Message.Contains("LoadBalancer:Connections:MaxConnectionsPerServer", StringComparison.Ordinal),
             exception.Message.Contains("LoadBalancer:Pools:default:Backends:b2:Address", StringComparison.Ordinal)),
            exception.Message);
    }

    [TestMethod]
    public void Constructor_NoLoadBalancerSection_StartsWithNoPools()
    {
        using var balancer = TestBalancer.Create(new Dictionary<string, string?> { ["Other:Key"] = "value" });

        Assert.IsEmpty(balancer.Registry.Pools);
    }

    [TestMethod]
    public void Mount_ConfiguredPool_Succeeds()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());

        balancer.Registry.Mount("default");

        Assert.IsNotNull(balancer.Registry.GetPool("default"));
    }

    [TestMethod]
    public void Mount_MissingPool_ThrowsNamingThePool()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry.Mount("x"));

        Assert.Contains("LoadBalancer:Pools:x: pool 'x' is mounted by the app but is not configured.", exception.Message);
    }

    [TestMethod]
    public void Mount_EmptyPool_ThrowsNamingItsBackendsKey()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool().With("LoadBalancer:Pools:x:Strategy", "RoundRobin"));

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry.Mount("x"));

        Assert.Contains("LoadBalancer:Pools:x:Backends: pool 'x' is mounted by the app but has no backends.", exception.Message);
    }

    [TestMethod]
    public async Task Reload_BackendAdded_AppliesIt()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());
        var registry = balancer.Registry;

        var result = await balancer.ChangeAndWaitAsync(Settings.DefaultPool().With(Settings.BackendKey("default", "b4"), "http://b4.test"));

        Assert.AreEqual(true, result.Applied);
        Assert.AreSequenceEqual(new[] { "b1", "b2", "b3", "b4" }, registry.GetPool("default")!.Backends.Select(b => b.Id));
    }

    [TestMethod]
    public async Task Reload_BackendRemoved_DropsIt()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());
        var registry = balancer.Registry;

        var result = await balancer.ChangeAndWaitAsync(Settings.DefaultPool().Without("LoadBalancer:Pools:default:Backends:b2:"));

        Assert.AreEqual(true, result.Applied);
        Assert.AreSequenceEqual(new[] { "b1", "b3" }, registry.GetPool("default")!.Backends.Select(b => b.Id));
    }

    [TestMethod]
    public async Task Reload_ValidChange_KeepsStateOfSurvivingBackends()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());
        var before = balancer.Pool().FindBackend("b1")!;
        before.RequestStarted();

        await balancer.ChangeAndWaitAsync(Settings.DefaultPool()
            .Without("LoadBalancer:Pools:default:Backends:b2:")
            .With(Settings.BackendKey("default", "b4"), "http://b4.test"));

        Assert.AreSame(before, balancer.Pool().FindBackend("b1"));
        Assert.AreEqual(1, before.InFlight);
    }

    [TestMethod]
    public async Task Reload_ValidChange_KeepsThePoolObject()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());
        var before = balancer.Pool();

        await balancer.ChangeAndWaitAsync(Settings.DefaultPool().With(Settings.BackendKey("default", "b4"), "http://b4.test"));

        Assert.AreSame(before, balancer.Pool());
    }

    [TestMethod]
    public async Task Reload_ValidChange_PublishesNewOptions()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());
        var registry = balancer.Registry;

        await balancer.ChangeAndWaitAsync(Settings.DefaultPool().With("LoadBalancer:Pools:default:Timeout", "00:00:03"));

        Assert.AreEqual(TimeSpan.FromSeconds(3), registry.Options.Pools["default"].Timeout);
    }

    [TestMethod]
    public async Task Reload_PoolAdded_CreatesIt()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());
        var registry = balancer.Registry;

        await balancer.ChangeAndWaitAsync(Settings.DefaultPool().With(Settings.BackendKey("api", "a1"), "http://a1.test"));

        Assert.IsTrue(registry.TryGetPool("api", out _));
    }

    [TestMethod]
    public async Task Reload_InvalidChange_RaisesRejectedNamingTheKey()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());
        _ = balancer.Registry;

        var result = await balancer.ChangeAndWaitAsync(Settings.DefaultPool().With($"{B1}:Address", "b1.test:8080"));

        Assert.AreEqual(false, result.Applied);
        Assert.StartsWith($"{B1}:Address:", Assert.ContainsSingle(result.Errors));
    }

    [TestMethod]
    public async Task Reload_UnknownKey_IsRejected()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());
        _ = balancer.Registry;

        var result = await balancer.ChangeAndWaitAsync(Settings.DefaultPool().With($"{B1}:Wieght", "2"));

        Assert.AreEqual((false, 1), (result.Applied, result.Errors.Count));
    }

    [TestMethod]
    public async Task Reload_NonConvertibleConnectionsValue_IsRejectedNamingTheKey()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());
        _ = balancer.Registry;

        var result = await balancer.ChangeAndWaitAsync(Settings.DefaultPool().With("LoadBalancer:Connections:ConnectTimeout", "soon"));

        Assert.AreEqual(false, result.Applied);
        Assert.Contains(e => e.Contains("LoadBalancer:Connections:ConnectTimeout", StringComparison.Ordinal), result.Errors);
    }

    [TestMethod]
    public async Task Reload_NonConvertibleBackendWeight_IsRejectedNamingTheKey()
    {
        // Regression guard (was a bug): the change is applied and b1 silently leaves the pool (see Constructor_NonConvertibleBackendWeight_ThrowsNamingTheKey).
        using var balancer = TestBalancer.Create(Settings.DefaultPool());
        _ = balancer.Registry;

        var result = await balancer.ChangeAndWaitAsync(Settings.DefaultPool().With($"{B1}:Weight", "heavy"));

        Assert.AreEqual(false, result.Applied);
        Assert.Contains(e => e.Contains($"{B1}:Weight", StringComparison.Ordinal), result.Errors);
    }

    [TestMethod]
    public async Task Reload_InvalidChange_PreviousOptionsKeepServing()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());
        var registry = balancer.Registry;
        var before = registry.Options;

        await balancer.ChangeAndWaitAsync(Settings.DefaultPool()
            .With($"{B1}:Address", "http://b1-moved.test")
            .With(Settings.BackendKey("default", "b2", "Weight"), "-5"));

        Assert.AreSame(before, registry.Options);
    }

    [TestMethod]
    public async Task Reload_InvalidChange_PreviousPoolsKeepServing()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());
        var registry = balancer.Registry;
        var before = registry.GetPool("default")!.Backends;

        await balancer.ChangeAndWaitAsync(Settings.DefaultPool()
            .Without("LoadBalancer:Pools:default:Backends:b3:")
            .With($"{B1}:Address", "http://b1-moved.test")
            .With("LoadBalancer:Pools:default:Strategy", "Fastest"));

        Assert.AreSequenceEqual(before, registry.GetPool("default")!.Backends);
        Assert.AreEqual(new Uri("http://b1.test:8080"), registry.GetPool("default")!.FindBackend("b1")!.Address);
    }

    [TestMethod]
    public async Task Reload_InvalidChange_LogsTheRejection()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool(), services => services.AddLogging(b => b.AddFakeLogging()));
        _ = balancer.Registry;

        await balancer.ChangeAndWaitAsync(Settings.DefaultPool().With($"{B1}:Weight", "-1"));

        var record = balancer.Services.GetFakeLogCollector().GetSnapshot().Single(r => r.Id.Id == 2);
        Assert.AreEqual((LogLevel.Error, "ConfigurationRejected"), (record.Level, record.Id.Name));
        Assert.Contains($"{B1}:Weight", record.Message);
    }

    [TestMethod]
    public async Task Reload_ValidChange_LogsPoolAndBackendCounts()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool(), services => services.AddLogging(b => b.AddFakeLogging()));
        _ = balancer.Registry;

        await balancer.ChangeAndWaitAsync(Settings.DefaultPool().With(Settings.BackendKey("api", "a1"), "http://a1.test"));

        var records = balancer.Services.GetFakeLogCollector().GetSnapshot().Where(r => r.Id.Id == 1).ToList();
        Assert.HasCount(2, records, "one line at start-up, one per applied change");
        Assert.AreEqual("Load balancer configuration applied: 2 pools, 4 backends", records[1].Message);
    }

    [TestMethod]
    public async Task Reload_SectionUnchanged_IsNotReapplied()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());
        var registry = balancer.Registry;
        var before = registry.Options;
        var changes = 0;
        registry.ConfigurationChanged += (_, _) => changes++;

        balancer.Change(Settings.DefaultPool());

        Assert.AreSame(before, registry.Options);
        Assert.AreEqual(0, changes);
    }

    [TestMethod]
    public async Task Reload_EmptiesMountedPool_IsRejected()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());
        var registry = balancer.Registry;
        registry.Mount("default");

        var result = await balancer.ChangeAndWaitAsync(Settings.DefaultPool()
            .Without("LoadBalancer:Pools:default:Backends:")
            .With("LoadBalancer:Pools:default:Strategy", "RoundRobin"));

        Assert.AreEqual(false, result.Applied);
        Assert.AreEqual("LoadBalancer:Pools:default:Backends: pool 'default' is mounted by the app but has no backends.", Assert.ContainsSingle(result.Errors));
    }

    [TestMethod]
    public async Task Reload_EmptiesMountedPool_KeepsItsBackends()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());
        var registry = balancer.Registry;
        registry.Mount("default");

        await balancer.ChangeAndWaitAsync(Settings.DefaultPool()
            .Without("LoadBalancer:Pools:default:Backends:")
            .With("LoadBalancer:Pools:default:Strategy", "RoundRobin"));

        Assert.HasCount(3, registry.GetPool("default")!.AvailableBackends);
    }

    [TestMethod]
    public async Task Reload_RemovesMountedPool_IsRejected()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool().With(Settings.BackendKey("api", "a1"), "http://a1.test"));
        var registry = balancer.Registry;
        registry.Mount("default");

        var result = await balancer.ChangeAndWaitAsync(Settings.Pool("api", ("a1", "http://a1.test")));

        Assert.AreEqual(false, result.Applied);
        Assert.IsTrue(registry.TryGetPool("default", out _));
    }

    [TestMethod]
    public async Task Reload_EmptiesUnmountedPool_IsApplied()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool().With(Settings.BackendKey("api", "a1"), "http://a1.test"));
        var registry = balancer.Registry;
        registry.Mount("api");

        var result = await balancer.ChangeAndWaitAsync(Settings.Pool("api", ("a1", "http://a1.test")));

        Assert.AreEqual(true, result.Applied);
        Assert.IsFalse(registry.TryGetPool("default", out _));
    }

    [TestMethod]
    public async Task Reload_AfterRejectedChange_AppliesNextValidChange()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());
        var registry = balancer.Registry;
        await balancer.ChangeAndWaitAsync(Settings.DefaultPool().With($"{B1}:Weight", "-1"));

        var result = await balancer.ChangeAndWaitAsync(Settings.DefaultPool().With($"{B1}:Weight", "4"));

        Assert.AreEqual((true, 4), (result.Applied, registry.GetPool("default")!.FindBackend("b1")!.Weight));
    }

    [TestMethod]
    public void Dispose_StopsListeningForChanges()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());
        var registry = balancer.Registry;
        var raised = 0;
        registry.ConfigurationChanged += (_, _) => raised++;
        registry.Dispose();

        balancer.Change(Settings.DefaultPool().With(Settings.BackendKey("default", "b4"), "http://b4.test"));

        Assert.AreEqual((0, 3), (raised, registry.GetPool("default")!.Backends.Length));
    }

    private static string KeyOf(string error) => error[..(error.IndexOf(": ", StringComparison.Ordinal) + 1)];
}
