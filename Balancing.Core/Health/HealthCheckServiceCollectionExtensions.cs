using Balancing;
using Balancing.Health;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers health probes of the app's own with the load balancer.</summary>
public static class LoadBalancerHealthCheckBuilderExtensions
{
    /// <summary>
    /// Registers a health probe that pools choose by <paramref name="name"/>
    /// (<c>Pools:&lt;pool&gt;:HealthCheck:Active:Probe</c>). Each pool with active checks gets its own instance, built by
    /// <see cref="ActivatorUtilities"/>: constructor parameters come from the container, except a parameter of type
    /// <see cref="ActiveHealthCheckOptions"/> or <see cref="PoolOptions"/>, which receives that pool's settings. The instance
    /// is disposed (if it is disposable) when the pool's checks stop or restart with new settings.
    /// </summary>
    /// <typeparam name="TProbe">The probe type.</typeparam>
    /// <param name="builder">The builder <c>AddLoadBalancer()</c> returned.</param>
    /// <param name="name">
    /// The probe's name, case-insensitive. Registering <see cref="HealthProbeNames.Http"/> or <see cref="HealthProbeNames.Tcp"/>
    /// replaces the built-in probe; the last registration of a name wins.
    /// </param>
    /// <returns>The builder, for chaining.</returns>
    public static ILoadBalancerBuilder AddHealthProbe<[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicConstructors)] TProbe>(
        this ILoadBalancerBuilder builder, string name)
        where TProbe : class, IHealthProbe
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        builder.Services.AddSingleton(HealthProbeRegistration.For<TProbe>(name.Trim()));
        return builder;
    }
}

/// <summary>Registers the services of active health checks; called by <c>AddLoadBalancerCore()</c>.</summary>
internal static class HealthCheckServiceCollectionExtensions
{
    public static IServiceCollection AddActiveHealthChecks(this IServiceCollection services)
    {
        if (services.Any(static d => d.ServiceType == typeof(ActiveHealthChecker)))
        {
            return services;
        }

        // Built-in probes first, so that a probe the app registers under the same name replaces them.
        services.AddSingleton(new HealthProbeRegistration(
            HealthProbeNames.Http,
            static (sp, pool) => new HttpHealthProbe(sp.GetRequiredService<IHttpMessageHandlerFactory>(), pool)));
        services.AddSingleton(new HealthProbeRegistration(HealthProbeNames.Tcp, static (_, _) => new TcpHealthProbe()));
        services.AddSingleton<HealthProbeRegistry>();
        services.AddSingleton<ActiveHealthChecker>();
        services.AddSingleton<IHostedService>(static sp => sp.GetRequiredService<ActiveHealthChecker>());
        return services;
    }
}
