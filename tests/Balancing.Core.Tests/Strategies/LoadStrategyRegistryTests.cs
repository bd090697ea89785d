using Balancing.Strategies;

namespace Balancing.Core.Tests.Strategies;

[TestClass]
public sealed class LoadStrategyRegistryTests
{
    [TestMethod]
    public void Create_KnownName_ReturnsANewInstanceEachTime()
    {
        var registry = new LoadStrategyRegistry([new LoadStrategyRegistration(LoadStrategyNames.RoundRobin, _ => new RoundRobinStrategy())]);

        var first = registry.Create(LoadStrategyNames.RoundRobin, EmptyServices.Instance);
        var second = registry.Create(LoadStrategyNames.RoundRobin, EmptyServices.Instance);

        Assert.AreNotSame(first, second);
    }

    [TestMethod]
    public void Create_NameInOtherCase_FindsTheStrategy()
    {
        var registry = new LoadStrategyRegistry([new LoadStrategyRegistration(LoadStrategyNames.RoundRobin, _ => new RoundRobinStrategy())]);

        var strategy = registry.Create("roundrobin", EmptyServices.Instance);

        Assert.IsInstanceOfType<RoundRobinStrategy>(strategy);
    }

    [TestMethod]
    public void Create_UnknownName_ThrowsListingKnownNames()
    {
        var registry = new LoadStrategyRegistry(
        [
            new LoadStrategyRegistration("Zeta", _ => new RoundRobinStrategy()),
            new LoadStrategyRegistration("Alpha", _ => new RoundRobinStrategy()),
        ]);

        var exception = Assert.ThrowsExactly<InvalidOperationException>(() => registry.Create("Random", EmptyServices.Instance));

        Assert.Contains("known strategies are Alpha, Zeta", exception.Message);
    }

    [TestMethod]
    public void Constructor_SameNameTwice_LastRegistrationWins()
    {
        var replacement = new RoundRobinStrategy();
        var registry = new LoadStrategyRegistry(
        [
            new LoadStrategyRegistration(LoadStrategyNames.RoundRobin, _ => new RoundRobinStrategy()),
            new LoadStrategyRegistration(LoadStrategyNames.RoundRobin, _ => replacement),
        ]);

        var strategy = registry.Create(LoadStrategyNames.RoundRobin, EmptyServices.Instance);

        Assert.AreSame(replacement, strategy);
    }

    private sealed class EmptyServices : IServiceProvider
    {
        public static readonly EmptyServices Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}
