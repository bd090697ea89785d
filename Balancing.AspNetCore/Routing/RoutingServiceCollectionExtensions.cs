using Balancing.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Balancing.AspNetCore.Routing;

/// <summary>Registers the routing of <c>UseLoadBalancer()</c>; called by <c>AddLoadBalancer()</c>.</summary>
internal static class RoutingServiceCollectionExtensions
{
    public static IServiceCollection AddLoadBalancerRouting(this IServiceCollection services)
    {
        // The constraint map (int, guid, length(...)) of the app's routing resolves inline constraints in route templates.
        services.AddRoutingCore();
        services.TryAddSingleton<RouteTableRule>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoadBalancerOptionsRule, RouteTableRule>(static sp => sp.GetRequiredService<RouteTableRule>()));
        services.TryAddSingleton<LoadBalancerRouter>();
        return services;
    }
}
