using Balancing.AspNetCore.Tests.Infrastructure;
using Balancing.Redis.Tests.Infrastructure;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Balancing.Redis.Tests;

/// <summary>Balancer instances that share one test Redis.</summary>
internal static class RedisTestHosts
{
    public static Task<BalancerHost> StartAsync(RedisServer redis, IDictionary<string, string?> settings, Action<RedisOptions>? configure = null, Action<Microsoft.AspNetCore.Builder.WebApplication>? configureApp = null)
        => BalancerHost.StartAsync(settings, configureApp, configureServices: services => services.AddLoadBalancer().AddRedis(options =>
        {
            options.Configuration = redis.Configuration;
            configure?.Invoke(options);
        }));

    public static RedisConnection Redis(this BalancerHost host) => host.Services.GetRequiredService<RedisConnection>();

    /// <summary>The last value of the <c>balancing.redis.available</c> gauge of <paramref name="host"/>'s own meter.</summary>
    public static int AvailableGauge(this BalancerHost host)
    {
        using var collector = new MetricCollector<int>(host.Services.GetRequiredService<IMeterFactory>(), BalancingTelemetry.MeterName, "balancing.redis.available");
        collector.RecordObservableInstruments();
        return collector.LastMeasurement!.Value;
    }

    public static int Count(this BalancerHost host, int eventId) => host.Logs.GetSnapshot().Count(r => r.Id.Id == eventId);
}
