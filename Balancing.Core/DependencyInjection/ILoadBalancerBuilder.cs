namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Returned by <c>AddLoadBalancer()</c>; further configuration is extension methods on this interface.</summary>
public interface ILoadBalancerBuilder
{
    /// <summary>Gets the service collection the balancer is registered in.</summary>
    IServiceCollection Services { get; }
}

internal sealed class LoadBalancerBuilder(IServiceCollection services) : ILoadBalancerBuilder
{
    public IServiceCollection Services { get; } = services;
}
