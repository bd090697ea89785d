using Balancing.Pools;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Balancing.Core.Tests.DependencyInjection;

[TestClass]
public sealed class LoadBalancerCoreServiceCollectionExtensionsTests
{
    [TestMethod]
    public void AddLoadBalancerCore_NoArguments_BindsLoadBalancerSectionOfAppConfiguration()
    {
        var configuration = Configuration(new() { ["LoadBalancer:Pools:default:Backends:b1:Address"] = "http://b1.test" });
        using var services = new ServiceCollection().AddLogging().AddSingleton(configuration).AddLoadBalancerCore().Services.BuildServiceProvider();

        var registry = services.GetRequiredService<IServerPoolRegistry>();

        Assert.AreEqual("b1", registry.Pools.Single().Backends.Single().Id);
    }

    [TestMethod]
    public void AddLoadBalancerCore_NoArgumentsAndNoConfiguration_StartsWithNoPools()
    {
        using var services = new ServiceCollection().AddLogging().AddLoadBalancerCore().Services.BuildServiceProvider();

        var registry = services.GetRequiredService<IServerPoolRegistry>();

        Assert.IsEmpty(registry.Pools);
    }

    [TestMethod]
    public void AddLoadBalancerCore_Section_BindsThatSection()
    {
        var configuration = Configuration(new() { ["Edge:Balancer:Pools:web:Backends:w1:Address"] = "http://w1.test" });
        using var services = new ServiceCollection().AddLogging().AddLoadBalancerCore(configuration.GetSection("Edge:Balancer")).Services.BuildServiceProvider();

        var registry = services.GetRequiredService<IServerPoolRegistry>();

        Assert.IsTrue(registry.TryGetPool("web", out _));
    }

    [TestMethod]
    public void AddLoadBalancerCore_SectionWithError_NamesKeysUnderThatSection()
    {
        var configuration = Configuration(new() { ["Edge:Balancer:Pools:web:Backends:w1:Adress"] = "http://w1.test" });
        using var services = new ServiceCollection().AddLogging().AddLoadBalancerCore(configuration.GetSection("Edge:Balancer")).Services.BuildServiceProvider();

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => services.GetRequiredService<IServerPoolRegistry>());

        Assert.Contains("Edge:Balancer:Pools:web:Backends:w1:Adress: unknown key", exception.Message);
    }

    [TestMethod]
    public void AddLoadBalancerCore_Action_ConfiguresInCodeOnly()
    {
        using var services = new ServiceCollection().AddLogging()
            .AddLoadBalancerCore(o => o.Pools["default"] = new PoolOptions
            {
                Backends = { ["b1"] = new BackendOptions { Address = "http://b1.test/api/", Weight = 2 } },
            })
            .Services.BuildServiceProvider();

        var backend = services.GetRequiredService<IServerPoolRegistry>().Pools.Single().Backends.Single();

        Assert.AreEqual(("http://b1.test/api", 2), (backend.AddressPrefix, backend.Weight));
    }

    [TestMethod]
    public void AddLoadBalancerCore_ActionWithInvalidOptions_ThrowsNamingDefaultSectionKeys()
    {
        using var services = new ServiceCollection().AddLogging()
            .AddLoadBalancerCore(o => o.Pools["default"] = new PoolOptions
            {
                Backends = { ["b1"] = new BackendOptions { Address = "http://b1.test", Weight = -1 } },
            })
            .Services.BuildServiceProvider();

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => services.GetRequiredService<IServerPoolRegistry>());

        Assert.Contains("LoadBalancer:Pools:default:Backends:b1:Weight: must be 0 or more", exception.Message);
    }

    [TestMethod]
    public void AddLoadBalancerCore_Action_IgnoresAppConfiguration()
    {
        var configuration = Configuration(new() { ["LoadBalancer:Pools:fromFile:Backends:f1:Address"] = "http://f1.test" });
        using var services = new ServiceCollection().AddLogging().AddSingleton(configuration)
            .AddLoadBalancerCore(o => o.Pools["fromCode"] = new PoolOptions { Backends = { ["c1"] = new BackendOptions { Address = "http://c1.test" } } })
            .Services.BuildServiceProvider();

        var names = services.GetRequiredService<IServerPoolRegistry>().Pools.Select(p => p.Name);

        Assert.AreSequenceEqual(new[] { "fromCode" }, names);
    }

    [TestMethod]
    public void AddLoadBalancerCore_CalledTwice_LastSourceWins()
    {
        var first = Configuration(new() { ["A:Pools:first:Backends:b1:Address"] = "http://b1.test" });
        var second = Configuration(new() { ["B:Pools:second:Backends:b1:Address"] = "http://b1.test" });
        var collection = new ServiceCollection().AddLogging();
        collection.AddLoadBalancerCore(first.GetSection("A"));
        collection.AddLoadBalancerCore(second.GetSection("B"));
        using var services = collection.BuildServiceProvider();

        var names = services.GetRequiredService<IServerPoolRegistry>().Pools.Select(p => p.Name);

        Assert.AreSequenceEqual(new[] { "second" }, names);
    }

    [TestMethod]
    public void AddLoadBalancerCore_RegistryInterface_IsTheEngineRegistry()
    {
        using var services = new ServiceCollection().AddLogging().AddLoadBalancerCore().Services.BuildServiceProvider();

        Assert.AreSame(services.GetRequiredService<ServerPoolRegistry>(), services.GetRequiredService<IServerPoolRegistry>());
    }

    [TestMethod]
    public void AddLoadBalancerCore_ReturnsBuilderOverTheSameServices()
    {
        var collection = new ServiceCollection();

        var builder = collection.AddLoadBalancerCore();

        Assert.AreSame(collection, builder.Services);
    }

    [TestMethod]
    public void AddLoadBalancerCore_TimeProviderAlreadyRegistered_KeepsIt()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        using var services = new ServiceCollection().AddLogging().AddSingleton<TimeProvider>(clock).AddLoadBalancerCore().Services.BuildServiceProvider();

        Assert.AreSame(clock, services.GetRequiredService<TimeProvider>());
    }

    [TestMethod]
    public void AddLoadBalancerCore_NullServices_Throws()
    {
        Assert.ThrowsExactly<ArgumentNullException>(() => LoadBalancerCoreServiceCollectionExtensions.AddLoadBalancerCore(null!));
    }

    private static IConfiguration Configuration(Dictionary<string, string?> settings)
        => new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
}
