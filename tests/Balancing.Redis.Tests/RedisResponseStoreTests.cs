using System.Net;
using Balancing.AspNetCore.Tests.Infrastructure;
using Balancing.Redis.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

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

    private static Task CacheableFor10Minutes(HttpContext context)
    {
        context.Response.Headers.CacheControl = "public, max-age=600";
        return context.Response.WriteAsync("body");
    }

    private static Dictionary<string, string?> CachingOn(TestBackend backend)
    {
        var settings = BalancerHost.PoolSettings(backend);
        settings["LoadBalancer:Caching:Enabled"] = "true";
        return settings;
    }

    [TestMethod]
    public async Task Purge_ThroughOneInstance_EmptiesRedisAndTheOtherInstancesMemory_ForItsPrefixOnly()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var backend = await TestBackend.StartAsync("b1", async context =>
        {
            context.Response.Headers.CacheControl = "public, max-age=600";
            await context.Response.WriteAsync(context.Request.Path.Value!);
        });
        var settings = BalancerHost.PoolSettings(backend);
        settings["LoadBalancer:Caching:Enabled"] = "true";
        static void MapPurge(Microsoft.AspNetCore.Builder.WebApplication app)
        {
            app.MapLoadBalancerCachePurge();
            app.UseLoadBalancer();
        }

        await using var first = await RedisTestHosts.StartAsync(redis, settings, configureApp: MapPurge);
        await using var second = await RedisTestHosts.StartAsync(redis, settings, configureApp: MapPurge);
        var secondCache = second.Services.GetRequiredService<Balancing.AspNetCore.Caching.ResponseCache>();

        // Both URLs stored through the first instance, then read by the second: in Redis and in both memories.
        foreach (var path in new[] { "/docs/a", "/shop/b" })
        {
            using var stored = await first.Client.SendAsync(Get(path));
            Assert.AreEqual(path, await stored.Content.ReadAsStringAsync());
        }

        await Eventually.TrueAsync(async () => await redis.KeyCountAsync("balancing:cache:*") == 2, Eventually.Patience);
        foreach (var path in new[] { "/docs/a", "/shop/b" })
        {
            using var read = await second.Client.SendAsync(Get(path));
            Assert.AreEqual(path, await read.Content.ReadAsStringAsync());
        }

        Assert.HasCount(2, backend.Received);
        Assert.AreEqual(2, secondCache.Count);

        using var purge = await first.Client.DeleteAsync("/_lb/cache?prefix=/docs");
        Assert.AreEqual(HttpStatusCode.OK, purge.StatusCode);
        Assert.AreEqual("{\"removed\":1,\"sharedRemoved\":1}", await purge.Content.ReadAsStringAsync());

        // The other instance hears of it through Redis: its copy of /docs/a goes, /shop/b stays.
        await Eventually.TrueAsync(() => secondCache.Count == 1, Eventually.Patience);
        Assert.AreEqual(1, await redis.KeyCountAsync("balancing:cache:*"));
        using (var again = await second.Client.SendAsync(Get("/docs/a")))
        {
            Assert.AreEqual("/docs/a", await again.Content.ReadAsStringAsync());
        }

        using (var kept = await second.Client.SendAsync(Get("/shop/b")))
        {
            Assert.AreEqual("/shop/b", await kept.Content.ReadAsStringAsync());
        }

        Assert.HasCount(3, backend.Received, "only the purged URL went back to the backend");
    }

    [TestMethod]
    public async Task Purge_RedisDown_EmptiesThisInstanceAndSaysTheSharedPartWasNotDone()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var backend = await TestBackend.StartAsync("b1", CacheableFor10Minutes);
        var settings = CachingOn(backend);
        await using var host = await RedisTestHosts.StartAsync(redis, settings, configureApp: app =>
        {
            app.MapLoadBalancerCachePurge();
            app.UseLoadBalancer();
        });
        using (var stored = await host.Client.GetAsync("/a"))
        {
            Assert.AreEqual(HttpStatusCode.OK, stored.StatusCode);
        }

        await redis.StopAsync();
        await Eventually.TrueAsync(async () =>
        {
            // A command that fails marks Redis down; asking the cache for another URL makes one.
            using var probe = await host.Client.GetAsync("/other");
            return !host.Redis().IsAvailable;
        }, Eventually.Patience);

        using var purge = await host.Client.DeleteAsync("/_lb/cache");

        Assert.AreEqual(HttpStatusCode.OK, purge.StatusCode);
        StringAssert.EndsWith(await purge.Content.ReadAsStringAsync(), "\"sharedRemoved\":null}");
        Assert.AreEqual(0, host.Services.GetRequiredService<Balancing.AspNetCore.Caching.ResponseCache>().Count);
    }

    [TestMethod]
    public async Task Get_RedisDown_CacheKeepsServingFromMemory()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var backend = await TestBackend.StartAsync("b1", CacheableFor10Minutes);
        var settings = CachingOn(backend);
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
