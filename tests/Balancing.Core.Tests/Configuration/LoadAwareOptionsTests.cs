using Balancing.Core.Tests.Infrastructure;
using Balancing.Strategies;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Balancing.Core.Tests.Configuration;

/// <summary>The <c>PeakEwma</c> and <c>ConsistentHash</c> pool settings, bound and checked as an app's configuration is.</summary>
[TestClass]
public sealed class LoadAwareOptionsTests
{
    private const string Pool = "LoadBalancer:Pools:default";

    [TestMethod]
    public void Registry_BothStrategiesAreKnownByName()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());
        var strategies = balancer.Services.GetRequiredService<LoadStrategyRegistry>();

        Assert.IsInstanceOfType<PeakEwmaStrategy>(strategies.Create("peakewma", balancer.Services));
        Assert.IsInstanceOfType<ConsistentHashStrategy>(strategies.Create("ConsistentHash", balancer.Services));
    }

    [TestMethod]
    public void Bind_Defaults_AreDocumentedValues()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());
        var options = balancer.Pool().Options;

        Assert.AreEqual(TimeSpan.FromSeconds(10), options.PeakEwma.DecayTime);
        Assert.AreEqual(TimeSpan.FromMilliseconds(30), options.PeakEwma.DefaultLatency);
        Assert.AreEqual(ConsistentHashKey.ClientIp, options.ConsistentHash.Key);
        Assert.IsNull(options.ConsistentHash.KeyName);
        Assert.AreEqual(0.25, options.ConsistentHash.BoundedLoad);
        Assert.AreEqual(65537, options.ConsistentHash.TableSize);
    }

    [TestMethod]
    public void Bind_EverySetting_ReachesThePool()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool()
            .With($"{Pool}:Strategy", "ConsistentHash")
            .With($"{Pool}:PeakEwma:DecayTime", "00:00:02")
            .With($"{Pool}:PeakEwma:DefaultLatency", "00:00:00.005")
            .With($"{Pool}:ConsistentHash:Key", "header")
            .With($"{Pool}:ConsistentHash:KeyName", "X-Tenant")
            .With($"{Pool}:ConsistentHash:BoundedLoad", "0.5")
            .With($"{Pool}:ConsistentHash:TableSize", "1009"));
        var pool = balancer.Pool();

        Assert.AreEqual(LoadStrategyNames.ConsistentHash, pool.Strategy.Name);
        Assert.AreEqual(TimeSpan.FromSeconds(2), pool.Options.PeakEwma.DecayTime);
        Assert.AreEqual(TimeSpan.FromMilliseconds(5), pool.Options.PeakEwma.DefaultLatency);
        Assert.AreEqual(ConsistentHashKey.Header, pool.Options.ConsistentHash.Key);
        Assert.AreEqual("X-Tenant", pool.Options.ConsistentHash.KeyName);
        Assert.AreEqual(0.5, pool.Options.ConsistentHash.BoundedLoad);
        Assert.AreEqual(1009, ((ConsistentHashStrategy)pool.Strategy).Table!.Size);
    }

    [TestMethod]
    [DataRow("PeakEwma:DecayTime", "00:00:00", "PeakEwma:DecayTime: must be a positive duration of at most 1.00:00:00")]
    [DataRow("PeakEwma:DecayTime", "2.00:00:00", "PeakEwma:DecayTime: must be a positive duration of at most 1.00:00:00")]
    [DataRow("PeakEwma:DefaultLatency", "-00:00:01", "PeakEwma:DefaultLatency: must be a positive duration")]
    [DataRow("ConsistentHash:BoundedLoad", "-0.1", "ConsistentHash:BoundedLoad: must be from 0 (no bound) to 100, not -0.1.")]
    [DataRow("ConsistentHash:BoundedLoad", "NaN", "ConsistentHash:BoundedLoad: must be from 0 (no bound) to 100, not NaN.")]
    [DataRow("ConsistentHash:TableSize", "65536", "ConsistentHash:TableSize: must be a prime number from 101 to 1000003, such as 65537, not 65536.")]
    [DataRow("ConsistentHash:TableSize", "97", "ConsistentHash:TableSize: must be a prime number from 101 to 1000003, such as 65537, not 97.")]
    [DataRow("ConsistentHash:KeyName", "X-User", "ConsistentHash:KeyName: is used only when Key is Header or Cookie, and Key is ClientIp; set Key or remove KeyName.")]
    public void Validate_BadValue_FailsNamingTheFullKey(string key, string value, string message)
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool().With($"{Pool}:{key}", value));

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.Contains($"{Pool}:{message}", exception.Message);
    }

    [TestMethod]
    [DataRow("Header", "header")]
    [DataRow("Cookie", "cookie")]
    public void Validate_HeaderOrCookieWithoutKeyName_FailsNamingTheKeyNameKey(string source, string what)
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool()
            .With($"{Pool}:Strategy", "ConsistentHash")
            .With($"{Pool}:ConsistentHash:Key", source));

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.Contains($"{Pool}:ConsistentHash:KeyName: is required when Key is {source} (the name of the {what} to hash).", exception.Message);
    }

    [TestMethod]
    public void Validate_KeyNameThatIsNoHeaderName_FailsNamingTheKey()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool()
            .With($"{Pool}:ConsistentHash:Key", "Header")
            .With($"{Pool}:ConsistentHash:KeyName", "X User:"));

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.Contains($"{Pool}:ConsistentHash:KeyName: 'X User:' is not a valid header name", exception.Message);
    }

    [TestMethod]
    public void Validate_UnknownKeySource_FailsListingTheSources()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool().With($"{Pool}:ConsistentHash:Key", "Query"));

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.Contains($"{Pool}:ConsistentHash:Key: 'Query' is not a valid value; expected one of ClientIp, Header, Cookie, Path.", exception.Message);
    }

    [TestMethod]
    [DataRow("ConsistentHash:Keyname2", "Key, KeyName, BoundedLoad, TableSize")]
    [DataRow("PeakEwma:Decay", "DecayTime, DefaultLatency")]
    public void Validate_MisspelledKey_FailsListingTheKeysAllowedThere(string key, string allowed)
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool().With($"{Pool}:{key}", "1"));

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.Contains($"{Pool}:{key}: unknown key; the keys allowed here are {allowed}.", exception.Message);
    }

    [TestMethod]
    public async Task Reload_NewTableSize_RebuildsTheTable()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool().With($"{Pool}:Strategy", "ConsistentHash"));
        var strategy = (ConsistentHashStrategy)balancer.Pool().Strategy;

        var result = await balancer.ChangeAndWaitAsync(Settings.DefaultPool()
            .With($"{Pool}:Strategy", "ConsistentHash")
            .With($"{Pool}:ConsistentHash:TableSize", "10007"));

        Assert.IsTrue(result.Applied, string.Join("; ", result.Errors));
        Assert.AreSame(strategy, balancer.Pool().Strategy);
        Assert.AreEqual(10007, strategy.Table!.Size);
    }
}
