using System.Diagnostics.CodeAnalysis;
using Balancing;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers backend sources: places other than configuration that backends come from (see docs/DISCOVERY.md).</summary>
public static class LoadBalancerBackendSourceBuilderExtensions
{
    /// <summary>
    /// Registers <typeparamref name="TSource"/> as a singleton whose backends join the configured backends of the pools
    /// it names. The balancer reads it at start-up and again each time its snapshot's change token fires.
    /// </summary>
    /// <typeparam name="TSource">The source type; its constructor parameters come from the container.</typeparam>
    /// <param name="builder">The builder <c>AddLoadBalancer()</c> returned.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <remarks>Registering the same type twice registers it once. The source is also resolvable as <typeparamref name="TSource"/>.</remarks>
    public static ILoadBalancerBuilder AddBackendSource<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TSource>(this ILoadBalancerBuilder builder)
        where TSource : class, IBackendSource
    {
        ArgumentNullException.ThrowIfNull(builder);
        AddBackendSource<TSource>(builder.Services);
        return builder;
    }

    internal static void AddBackendSource<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TSource>(IServiceCollection services)
        where TSource : class, IBackendSource
    {
        if (services.Any(static d => d.ServiceType == typeof(TSource)))
        {
            return;
        }

        services.AddSingleton<TSource>();
        services.AddSingleton<IBackendSource>(static sp => sp.GetRequiredService<TSource>());
    }
}
