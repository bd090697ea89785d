using Balancing;
using Balancing.Configuration;
using Balancing.Forwarding;
using Balancing.Pools;
using Balancing.Strategies;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Balancing engine (pools, strategies, the balanced sender) without the ASP.NET Core front door.</summary>
public static class LoadBalancerCoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers the engine, configured from the <c>LoadBalancer</c> section of the app's <see cref="IConfiguration"/>
    /// (when one is registered), with reload on change.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <returns>A builder for further configuration.</returns>
    public static ILoadBalancerBuilder AddLoadBalancerCore(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return AddCore(services, new LoadBalancerConfigurationSource(
            static sp => sp.GetService<IConfiguration>()?.GetSection(LoadBalancerDefaults.ConfigurationSectionName)));
    }

    /// <summary>Registers the engine, configured in code only.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>A builder for further configuration.</returns>
    public static ILoadBalancerBuilder AddLoadBalancerCore(this IServiceCollection services, Action<LoadBalancerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var builder = AddCore(services, new LoadBalancerConfigurationSource(static _ => null));
        services.Configure(configure);
        return builder;
    }

    /// <summary>Registers the engine, configured from <paramref name="configuration"/>, with reload on change.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The section to bind (usually <c>builder.Configuration.GetSection("LoadBalancer")</c>).</param>
    /// <returns>A builder for further configuration.</returns>
    public static ILoadBalancerBuilder AddLoadBalancerCore(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        return AddCore(services, new LoadBalancerConfigurationSource(_ => configuration));
    }

    private static LoadBalancerBuilder AddCore(IServiceCollection services, LoadBalancerConfigurationSource source)
    {
        // The last AddLoadBalancer call decides where configuration comes from.
        services.RemoveAll<LoadBalancerConfigurationSource>();
        services.AddSingleton(source);

        services.AddOptions();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<LoadBalancerOptions>, BindLoadBalancerOptions>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IOptionsChangeTokenSource<LoadBalancerOptions>, LoadBalancerChangeTokenSource>());

        services.TryAddSingleton(TimeProvider.System);
        if (!services.Any(static d => d.ServiceType == typeof(LoadStrategyRegistry)))
        {
            services.AddSingleton(new LoadStrategyRegistration(LoadStrategyNames.RoundRobin, static _ => new RoundRobinStrategy()));
            services.AddSingleton(new LoadStrategyRegistration(LoadStrategyNames.WeightedRoundRobin, static _ => new WeightedRoundRobinStrategy()));
            services.AddSingleton(new LoadStrategyRegistration(LoadStrategyNames.LeastConnections, static _ => new LeastConnectionsStrategy()));
            services.AddSingleton(new LoadStrategyRegistration(LoadStrategyNames.PowerOfTwoChoices, static _ => new PowerOfTwoChoicesStrategy()));
            services.AddSingleton(new LoadStrategyRegistration(LoadStrategyNames.Random, static _ => new RandomStrategy()));
            services.AddSingleton(new LoadStrategyRegistration(LoadStrategyNames.PeakEwma, static sp => new PeakEwmaStrategy(sp.GetRequiredService<TimeProvider>())));
            services.AddSingleton(new LoadStrategyRegistration(LoadStrategyNames.ConsistentHash, static _ => new ConsistentHashStrategy()));
        }

        // Metrics: one meter from the app's IMeterFactory (AddMetrics adds the default factory only when none is there).
        services.AddMetrics();
        services.TryAddSingleton<Balancing.Diagnostics.BalancingMetrics>();

        // Backends named by DNS: the built-in backend source, registered the way an app registers its own.
        services.TryAddSingleton<Balancing.Discovery.IDnsResolver, Balancing.Discovery.SystemDnsResolver>();
        LoadBalancerBackendSourceBuilderExtensions.AddBackendSource<Balancing.Discovery.DnsBackendSource>(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Hosting.IHostedService, Balancing.Discovery.DnsDiscoveryStartup>());

        services.TryAddSingleton<LoadStrategyRegistry>();
        services.TryAddSingleton<ServerPoolRegistry>();
        services.TryAddSingleton<IServerPoolRegistry>(static sp => sp.GetRequiredService<ServerPoolRegistry>());
        services.TryAddSingleton<BalancedSender>();
        services.AddActiveHealthChecks();
        services.AddLoadBalancerStatistics();

        services.AddHttpClient(LoadBalancerDefaults.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(static sp =>
            {
                var registry = sp.GetRequiredService<ServerPoolRegistry>();
                return BackendHttpHandler.Create(registry.Options.Connections, new BackendCertificateValidation(registry));
            })
            // Connections recycle themselves (PooledConnectionLifetime); rotating handlers would only drop warm pools.
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            // The balancer writes its own per-request line; the factory's four lines per request would cost more than the proxying.
            .RemoveAllLoggers();

        return new LoadBalancerBuilder(services);
    }

    private sealed class BindLoadBalancerOptions(LoadBalancerConfigurationSource source, IServiceProvider services) : IConfigureOptions<LoadBalancerOptions>
    {
        public void Configure(LoadBalancerOptions options) => source.Resolve(services)?.Bind(options);
    }

    private sealed class LoadBalancerChangeTokenSource(LoadBalancerConfigurationSource source, IServiceProvider services) : IOptionsChangeTokenSource<LoadBalancerOptions>
    {
        public string? Name => Options.Options.DefaultName;

        public Primitives.IChangeToken GetChangeToken()
            => source.Resolve(services)?.GetReloadToken() ?? NullChangeToken.Instance;
    }

    private sealed class NullChangeToken : Primitives.IChangeToken
    {
        public static readonly NullChangeToken Instance = new();

        public bool HasChanged => false;

        public bool ActiveChangeCallbacks => false;

        public IDisposable RegisterChangeCallback(Action<object?> callback, object? state) => EmptyDisposable.Instance;

        private sealed class EmptyDisposable : IDisposable
        {
            public static readonly EmptyDisposable Instance = new();

            public void Dispose()
            {
            }
        }
    }
}
