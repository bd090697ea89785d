using Balancing;
using Balancing.AspNetCore;
using Balancing.AspNetCore.Forwarding;
using Balancing.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the load balancer in an ASP.NET Core app.</summary>
public static class LoadBalancerServiceCollectionExtensions
{
    /// <summary>
    /// Adds the load balancer, configured from the <c>LoadBalancer</c> section of the app's configuration
    /// (appsettings.json, environment variables, command line), reloaded when it changes.
    /// </summary>
    /// <param name="services">The app's services.</param>
    /// <returns>A builder for further configuration.</returns>
    public static ILoadBalancerBuilder AddLoadBalancer(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return AddFrontDoor(services.AddLoadBalancerCore());
    }

    /// <summary>Adds the load balancer, configured in code only (no configuration section is bound).</summary>
    /// <param name="services">The app's services.</param>
    /// <param name="configure">Configures pools, backends and forwarding.</param>
    /// <returns>A builder for further configuration.</returns>
    public static ILoadBalancerBuilder AddLoadBalancer(this IServiceCollection services, Action<LoadBalancerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        return AddFrontDoor(services.AddLoadBalancerCore(configure));
    }

    /// <summary>Adds the load balancer, configured from <paramref name="configuration"/>, reloaded when it changes.</summary>
    /// <param name="services">The app's services.</param>
    /// <param name="configuration">The section to bind, usually <c>builder.Configuration.GetSection("LoadBalancer")</c>.</param>
    /// <returns>A builder for further configuration.</returns>
    public static ILoadBalancerBuilder AddLoadBalancer(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        return AddFrontDoor(services.AddLoadBalancerCore(configuration));
    }

    private static ILoadBalancerBuilder AddFrontDoor(ILoadBalancerBuilder builder)
    {
        var services = builder.Services;
        services.TryAddSingleton<LoadBalancerMarker>();
        services.TryAddSingleton<HttpForwarder>();
        services.TryAddSingleton<Balancing.AspNetCore.RateLimiting.ClientRateLimiting>();
        services.TryAddSingleton<Balancing.AspNetCore.Caching.ResponseCache>();
        services.TryAddSingleton<Balancing.AspNetCore.Admin.PrometheusMetrics>();
        services.AddLoadBalancerRouting();

        // Session affinity protects its pins with Data Protection; AddDataProtection adds only what is missing, so an
        // app's own key ring settings (PersistKeysTo..., SetApplicationName) stay as they are.
        services.AddDataProtection();
        services.TryAddSingleton<Balancing.AspNetCore.Affinity.SessionAffinity>();

        // Resolving the registry validates the configuration; doing it while the host starts makes a bad
        // configuration fail start-up (with every bad key listed) instead of the first request.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, LoadBalancerStartupValidation>());
        return builder;
    }
}
