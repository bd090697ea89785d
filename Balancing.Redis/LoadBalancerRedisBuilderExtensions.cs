using Balancing;
using Balancing.AspNetCore.Caching;
using Balancing.AspNetCore.RateLimiting;
using Balancing.Configuration;
using Balancing.Redis;
using Balancing.Statistics;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.StackExchangeRedis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Shares the load balancer's state with its other instances through Redis.</summary>
public static class LoadBalancerRedisBuilderExtensions
{
    /// <summary>
    /// Shares per-client rate limits, the response cache and the Data Protection key ring (affinity pins) through the
    /// Redis at <paramref name="configuration"/>, with the default <see cref="RedisOptions"/> otherwise.
    /// </summary>
    /// <param name="builder">The builder <c>AddLoadBalancer()</c> returned.</param>
    /// <param name="configuration">A StackExchange.Redis configuration string, for example <c>localhost:6379</c>.</param>
    /// <returns>The same builder.</returns>
    public static ILoadBalancerBuilder AddRedis(this ILoadBalancerBuilder builder, string configuration)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        return AddRedis(builder, options => options.Configuration = configuration);
    }

    /// <summary>Shares the load balancer's state through Redis, with <see cref="RedisOptions"/> set in code.</summary>
    /// <param name="builder">The builder <c>AddLoadBalancer()</c> returned.</param>
    /// <param name="configure">Sets the connection string and the other options.</param>
    /// <returns>The same builder.</returns>
    public static ILoadBalancerBuilder AddRedis(this ILoadBalancerBuilder builder, Action<RedisOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        return AddServices(builder, "Redis", []);
    }

    /// <summary>
    /// Shares the load balancer's state through Redis, with <see cref="RedisOptions"/> bound from
    /// <paramref name="section"/>, usually <c>builder.Configuration.GetSection("LoadBalancerRedis")</c>. Unknown keys and
    /// bad values fail start-up, named by their full path.
    /// </summary>
    /// <param name="builder">The builder <c>AddLoadBalancer()</c> returned.</param>
    /// <param name="section">The section holding <c>Configuration</c>, <c>KeyPrefix</c>, <c>OnUnavailable</c>, ...</param>
    /// <returns>The same builder.</returns>
    public static ILoadBalancerBuilder AddRedis(this ILoadBalancerBuilder builder, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(section);
        var path = section is IConfigurationSection named ? named.Path : "Redis";
        var keyErrors = new List<string>();
        var badValues = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        ConfigurationKeyValidator.FindUnknownKeys(section, typeof(RedisOptions), path, keyErrors, badValues);
        if (badValues.Count == 0)
        {
            builder.Services.Configure<RedisOptions>(section);
        }

        return AddServices(builder, path, keyErrors);
    }

    private static ILoadBalancerBuilder AddServices(ILoadBalancerBuilder builder, string path, List<string> keyErrors)
    {
        var services = builder.Services;
        services.AddSingleton<IValidateOptions<RedisOptions>>(new RedisOptionsValidator(path, keyErrors));
        services.AddOptions<RedisOptions>().ValidateOnStart();
        services.TryAddSingleton<RedisConnection>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RedisConnection>(static s => s.GetRequiredService<RedisConnection>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISharedStateStatus, RedisConnection>(static s => s.GetRequiredService<RedisConnection>()));
        services.Replace(ServiceDescriptor.Singleton<ISharedRateLimitStore, RedisRateLimitStore>());
        services.Replace(ServiceDescriptor.Singleton<ISecondLevelCache, RedisResponseStore>());

        // Every instance must read every other's affinity pins: one key ring in Redis, one application name.
        services.AddDataProtection();
        services.AddOptions<DataProtectionOptions>().Configure<IOptions<RedisOptions>>(static (options, redis) =>
            options.ApplicationDiscriminator = redis.Value.ApplicationName);
        services.AddOptions<KeyManagementOptions>().Configure<RedisConnection>(static (options, redis) =>
        {
            if (redis.Options.ShareDataProtectionKeys)
            {
                options.XmlRepository = new RedisXmlRepository(() => redis.Database, redis.Options.KeyPrefix + "dataprotection-keys");
            }
        });

        return builder;
    }
}
