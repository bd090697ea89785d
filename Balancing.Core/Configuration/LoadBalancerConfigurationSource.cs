using Microsoft.Extensions.Configuration;

namespace Balancing.Configuration;

/// <summary>Where the balancer's configuration section is, for binding, error messages and the unknown-key check.</summary>
internal sealed class LoadBalancerConfigurationSource
{
    private readonly Func<IServiceProvider, IConfiguration?> _resolve;

    public LoadBalancerConfigurationSource(Func<IServiceProvider, IConfiguration?> resolve)
    {
        _resolve = resolve;
    }

    public IConfiguration? Resolve(IServiceProvider services) => _resolve(services);

    public static string PathOf(IConfiguration? section)
        => section is IConfigurationSection s ? s.Path : LoadBalancerDefaults.ConfigurationSectionName;
}
