using Balancing.Core.Tests.Infrastructure;
using Balancing.Strategies;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Balancing.Core.Tests.DependencyInjection;

[TestClass]
public sealed class LoadBalancerStrategyBuilderExtensionsTests
{
    private const string Strategy = "LoadBalancer:Pools:default:Strategy";

    [TestMethod]
    [DataRow(LoadStrategyNames.RoundRobin, typeof(RoundRobinStrategy))]
    [DataRow(LoadStrategyNames.WeightedRoundRobin, typeof(WeightedRoundRobinStrategy))]
    [DataRow(LoadStrategyNames.LeastConnections, typeof(LeastConnectionsStrategy))]
    [DataRow(LoadStrategyNames.PowerOfTwoChoices, typeof(PowerOfTwoChoicesStrategy))]
    [DataRow("random", typeof(RandomStrategy))]
    public void AddLoadBalancerCore_BuiltInStrategyName_ChoosesThatStrategy(string name, Type expected)
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool().With(Strategy, name));

        Assert.IsInstanceOfType(balancer.Pool().Strategy, expected);
    }

    [TestMethod]
    public void AddStrategy_Type_ChosenByItsNameAndBuiltWithServices()
    {
        var settings = Settings.DefaultPool().With(Strategy, "firstbackend");
        using var balancer = TestBalancer.Create(settings, services => new LoadBalancerBuilder(services).AddStrategy<FirstBackendStrategy>());

        var pool = balancer.Pool();
        var strategy = Assert.IsInstanceOfType<FirstBackendStrategy>(pool.Strategy);

        Assert.AreSame(balancer.Services.GetRequiredService<TimeProvider>(), strategy.Clock);
        Assert.AreEqual("b1", pool.Strategy.Pick(pool.AvailableBackends.AsSpan(), default)?.Id);
    }

    [TestMethod]
    public void AddStrategy_Type_EachPoolGetsItsOwnInstance()
    {
        var settings = Settings.Pool("one", ("b1", "http://b1.test"))
            .With("LoadBalancer:Pools:one:Strategy", FirstBackendStrategy.StrategyName)
            .With("LoadBalancer:Pools:two:Backends:b2:Address", "http://b2.test")
            .With("LoadBalancer:Pools:two:Strategy", FirstBackendStrategy.StrategyName);
        using var balancer = TestBalancer.Create(settings, services => new LoadBalancerBuilder(services).AddStrategy<FirstBackendStrategy>());

        var one = balancer.Pool("one").Strategy;
        var two = balancer.Pool("two").Strategy;

        Assert.IsInstanceOfType<FirstBackendStrategy>(one);
        Assert.IsInstanceOfType<FirstBackendStrategy>(two);
        Assert.AreNotSame(one, two);
    }

    [TestMethod]
    public void AddStrategy_Factory_CalledOncePerPoolThatUsesIt()
    {
        var created = 0;
        var settings = Settings.DefaultPool().With(Strategy, "Pinned")
            .With("LoadBalancer:Pools:other:Backends:o1:Address", "http://o1.test");
        using var balancer = TestBalancer.Create(settings, services => new LoadBalancerBuilder(services).AddStrategy("Pinned", _ =>
        {
            created++;
            return new FirstBackendStrategy(TimeProvider.System, "Pinned");
        }));

        var strategy = balancer.Pool().Strategy;

        Assert.AreEqual(("Pinned", 1), (strategy.Name, created));
        Assert.IsInstanceOfType<RoundRobinStrategy>(balancer.Pool("other").Strategy);
    }

    [TestMethod]
    public void AddStrategy_UnknownName_FailsStartUpListingBuiltInAndCustomNames()
    {
        using var balancer = TestBalancer.Create(
            Settings.DefaultPool().With(Strategy, "Fastest"),
            services => new LoadBalancerBuilder(services).AddStrategy<FirstBackendStrategy>().AddStrategy("Pinned", sp => new FirstBackendStrategy(TimeProvider.System, "Pinned")));

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.Contains(
            $"{Strategy}: unknown strategy 'Fastest'; known strategies are ConsistentHash, FirstBackend, LeastConnections, PeakEwma, Pinned, PowerOfTwoChoices, Random, RoundRobin, WeightedRoundRobin.",
            exception.Message);
    }

    [TestMethod]
    public void AddStrategy_SameNameAsBuiltIn_ReplacesIt()
    {
        using var balancer = TestBalancer.Create(
            Settings.DefaultPool().With(Strategy, LoadStrategyNames.Random),
            services => new LoadBalancerBuilder(services).AddStrategy(LoadStrategyNames.Random, _ => new FirstBackendStrategy(TimeProvider.System, LoadStrategyNames.Random)));

        Assert.IsInstanceOfType<FirstBackendStrategy>(balancer.Pool().Strategy);
    }

    [TestMethod]
    public void AddStrategy_FactoryReportsAnotherName_FailsNamingBoth()
    {
        using var balancer = TestBalancer.Create(
            Settings.DefaultPool().With(Strategy, "Pinned"),
            services => new LoadBalancerBuilder(services).AddStrategy("Pinned", _ => new FirstBackendStrategy(TimeProvider.System, "Other")));

        var exception = Assert.ThrowsExactly<InvalidOperationException>(() => balancer.Registry);

        Assert.Contains("registered as 'Pinned' reports the name 'Other'", exception.Message);
    }

    [TestMethod]
    public void AddStrategy_EmptyName_Throws()
    {
        var builder = new LoadBalancerBuilder(new ServiceCollection());

        Assert.ThrowsExactly<ArgumentException>(() => builder.AddStrategy(" ", _ => new RoundRobinStrategy()));
    }

    [TestMethod]
    public async Task Reload_SameCustomStrategy_KeepsTheInstance()
    {
        var settings = Settings.DefaultPool().With(Strategy, FirstBackendStrategy.StrategyName);
        using var balancer = TestBalancer.Create(settings, services => new LoadBalancerBuilder(services).AddStrategy<FirstBackendStrategy>());
        var before = balancer.Pool().Strategy;

        var result = await balancer.ChangeAndWaitAsync(settings.With(Settings.BackendKey("default", "b4"), "http://b4.test"));

        Assert.IsTrue(result.Applied);
        Assert.AreSame(before, balancer.Pool().Strategy);
    }

    /// <summary>Always the first candidate; takes a service to show that constructor parameters come from the container.</summary>
    public sealed class FirstBackendStrategy(TimeProvider clock, string name) : ILoadStrategy
    {
        public const string StrategyName = "FirstBackend";

        [ActivatorUtilitiesConstructor]
        public FirstBackendStrategy(TimeProvider clock)
            : this(clock, StrategyName)
        {
        }

        public TimeProvider Clock { get; } = clock;

        public string Name { get; } = name;

        public BackendState? Pick(ReadOnlySpan<BackendState> candidates, in BalancingContext context)
            => candidates.IsEmpty ? null : candidates[0];
    }
}
