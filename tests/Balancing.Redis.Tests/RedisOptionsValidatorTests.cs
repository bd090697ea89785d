using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Balancing.Redis.Tests;

[TestClass]
public sealed class RedisOptionsValidatorTests
{
    [TestMethod]
    public async Task Start_MisspeltKey_FailsNamingTheKey()
    {
        var error = await StartAsync(new() { ["LoadBalancerRedis:Configuraton"] = "localhost:6379" });

        StringAssert.Contains(error.Message, "LoadBalancerRedis:Configuraton: unknown key; the keys allowed here are Configuration, KeyPrefix");
        StringAssert.Contains(error.Message, "LoadBalancerRedis:Configuration: must name the Redis to connect to");
    }

    [TestMethod]
    public async Task Start_BadValues_FailsNamingEachKey()
    {
        var error = await StartAsync(new()
        {
            ["LoadBalancerRedis:Configuration"] = "localhost:6379",
            ["LoadBalancerRedis:OperationTimeout"] = "00:00:00",
            ["LoadBalancerRedis:ApplicationName"] = " ",
        });

        StringAssert.Contains(error.Message, "LoadBalancerRedis:OperationTimeout: must be from 00:00:00.001 to 00:01:00, not 00:00:00.");
        StringAssert.Contains(error.Message, "LoadBalancerRedis:ApplicationName: must not be empty");
    }

    [TestMethod]
    public async Task Start_UnconvertibleValue_FailsNamingTheKey()
    {
        var error = await StartAsync(new()
        {
            ["LoadBalancerRedis:Configuration"] = "localhost:6379",
            ["LoadBalancerRedis:OnUnavailable"] = "Ignore",
        });

        StringAssert.Contains(error.Message, "LoadBalancerRedis:OnUnavailable: 'Ignore' is not a valid value; expected one of LocalFallback, FailClosed.");
    }

    private static async Task<OptionsValidationException> StartAsync(Dictionary<string, string?> redisSettings)
    {
        await using var backend = await TestBackend.StartAsync("b1");
        var section = new ConfigurationBuilder().AddInMemoryCollection(redisSettings).Build().GetSection("LoadBalancerRedis");
        return await Assert.ThrowsAsync<OptionsValidationException>(() =>
            BalancerHost.StartAsync(BalancerHost.PoolSettings(backend), configureServices: services => services.AddLoadBalancer().AddRedis(section)));
    }
}
