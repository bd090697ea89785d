using Balancing;
using Balancing.Statistics;
using Microsoft.Extensions.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the statistics; called by <c>AddLoadBalancerCore()</c>.</summary>
internal static class StatisticsServiceCollectionExtensions
{
    public static IServiceCollection AddLoadBalancerStatistics(this IServiceCollection services)
    {
        if (services.Any(static d => d.ServiceType == typeof(StatisticsCollector)))
        {
            return services;
        }

        services.AddSingleton<StatisticsCollector>();
        services.AddSingleton<ILoadBalancerStatistics>(static sp => sp.GetRequiredService<StatisticsCollector>());

        // As a hosted service it starts listening when the host starts, before the first request, not at the first snapshot.
        services.AddSingleton<IHostedService>(static sp => sp.GetRequiredService<StatisticsCollector>());
        return services;
    }
}
