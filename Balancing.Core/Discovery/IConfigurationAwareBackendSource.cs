namespace Balancing.Discovery;

/// <summary>
/// A backend source whose targets come from the balancer's own configuration (the DNS source reads the backends marked
/// <see cref="BackendDiscovery.Dns"/>). The registry calls <see cref="ConfigurationApplied"/> with each configuration
/// it applies, under its lock, just before it reads the source's snapshot.
/// </summary>
internal interface IConfigurationAwareBackendSource
{
    /// <summary>Follows a configuration that is being applied; already validated.</summary>
    /// <param name="options">The configuration.</param>
    void ConfigurationApplied(LoadBalancerOptions options);
}
