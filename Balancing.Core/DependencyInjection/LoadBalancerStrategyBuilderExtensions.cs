using System.Diagnostics.CodeAnalysis;
using Balancing;
using Balancing.Strategies;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers load strategies of the app's own with the load balancer.</summary>
public static class LoadBalancerStrategyBuilderExtensions
{
    /// <summary>
    /// Registers <typeparamref name="TStrategy"/>, which pools choose by its <see cref="ILoadStrategy.Name"/>
    /// (<c>Pools:&lt;pool&gt;:Strategy</c>, case-insensitive). Each pool gets its own instance, built by
    /// <see cref="ActivatorUtilities"/> (constructor parameters come from the container), so the strategy may keep per-pool
    /// state. The name is read once at start-up from an instance built for that purpose.
    /// </summary>
    /// <typeparam name="TStrategy">The strategy type.</typeparam>
    /// <param name="builder">The builder <c>AddLoadBalancer()</c> returned.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <remarks>A strategy registered under the name of a built-in one replaces it; the last registration of a name wins.</remarks>
    public static ILoadBalancerBuilder AddStrategy<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TStrategy>(this ILoadBalancerBuilder builder)
        where TStrategy : class, ILoadStrategy
    {
        ArgumentNullException.ThrowIfNull(builder);
        var factory = ActivatorUtilities.CreateFactory<TStrategy>([]);
        builder.Services.AddSingleton(services =>
        {
            // The registry must know the name before any pool exists, to validate configuration against it.
            var sample = factory(services, null);
            var name = sample.Name;
            (sample as IDisposable)?.Dispose();
            if (string.IsNullOrWhiteSpace(name))
            {
                throw new InvalidOperationException($"The load strategy {typeof(TStrategy).FullName} has no name; ILoadStrategy.Name is how configuration chooses it.");
            }

            return new LoadStrategyRegistration(name.Trim(), sp => factory(sp, null));
        });
        return builder;
    }

    /// <summary>
    /// Registers a strategy that pools choose by <paramref name="name"/> (<c>Pools:&lt;pool&gt;:Strategy</c>,
    /// case-insensitive), created by <paramref name="factory"/> once for each pool that uses it.
    /// </summary>
    /// <param name="builder">The builder <c>AddLoadBalancer()</c> returned.</param>
    /// <param name="name">
    /// The strategy's name. The strategies <paramref name="factory"/> creates must report it as their
    /// <see cref="ILoadStrategy.Name"/>: that is how the pool tells, on a reload, whether its strategy changed.
    /// </param>
    /// <param name="factory">Creates a strategy for one pool, given the app's services.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <remarks>A strategy registered under the name of a built-in one replaces it; the last registration of a name wins.</remarks>
    public static ILoadBalancerBuilder AddStrategy(this ILoadBalancerBuilder builder, string name, Func<IServiceProvider, ILoadStrategy> factory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        var registered = name.Trim();
        builder.Services.AddSingleton(new LoadStrategyRegistration(registered, services =>
        {
            var strategy = factory(services)
                ?? throw new InvalidOperationException($"The factory of load strategy '{registered}' returned null.");
            if (!string.Equals(strategy.Name, registered, StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException(
                    $"The load strategy registered as '{registered}' reports the name '{strategy.Name}'; ILoadStrategy.Name must be the name it is registered under.");
            }

            return strategy;
        }));
        return builder;
    }
}
