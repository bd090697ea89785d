using System.Net;
using Balancing.AspNetCore.Tests.Infrastructure;
using Balancing.Redis.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Balancing.Redis.Tests;

[TestClass]
public sealed class RedisResponseStoreTests
{
    [TestMethod]
    public async Task Get_ResponseCachedThroughOneInstance_IsServedByAnotherWithItsAge()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var backend = await TestBackend.StartAsync("b1", async context =>
        {
            context.Response.Headers.CacheControl = "public, max-age=600";
            context.Response.Headers.Age = "30";
            await context.Response.WriteAsync("shared body");
        });
        var settings = BalancerHost.PoolSettings(backend);
        settings["LoadBalancer:Caching:Enabled"] = "true";
        await using var first = await RedisTestHosts.StartAsync(redis, settings);
        await using var second = await RedisTestHosts.StartAsync(redis, settings);

        // Instances behind one name see one Host; the cache key includes it.
        using var stored = await first.Client.SendAsync(Get("/page?id=1"));
        Assert.AreEqual("shared body", await stored.Content.ReadAsStringAsync());

        // The write to Redis does not hold the response: wait until it is there.
        await Eventually.TrueAsync(async () => await redis.KeyCountAsync("balancing:cache:*") > 0, Eventually.Patience);
        using var served = await second.Client.SendAsync(Get("/page?id=1"));

        Assert.AreEqual(HttpStatusCode.OK, served.StatusCode);
        Assert.AreEqual("shared body", await served.Content.ReadAsStringAsync());
        Assert.HasCount(1, backend.Received);

        // The backend said 30 seconds old when it answered: the other instance counts from there, not from zero.
        var age = served.Headers.Age ?? TimeSpan.Zero;
        Assert.IsTrue(age >= TimeSpan.FromSeconds(30) && age < TimeSpan.FromSeconds(90), $"Age was {age}.");
    }

    private static HttpRequestMessage Get(string target) => new(HttpMethod.Get, target) { Headers = { Host = "shop.example" } };

    [TestMethod]
    public async Task Get_RedisDown_CacheKeepsServingFromMemory()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var backend = await TestBackend.StartAsync("b1", async context =>
        {
            context.Response.Headers.CacheControl = "public, max-age=600";
            await context.Response.WriteAsync("body");
        });
        var settings = BalancerHost.PoolSettings(backend);
        settings["LoadBalancer:Caching:Enabled"] = "true";
        await using var host = await RedisTestHosts.StartAsync(redis, settings);
        await redis.StopAsync();

        for (var i = 0; i < 3; i++)
        {
            using var response = await host.Client.GetAsync("/a");
            Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
            Assert.AreEqual("body", await response.Content.ReadAsStringAsync());
        }

        Assert.HasCount(1, backend.Received);
    }
}
