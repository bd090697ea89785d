using System.Net;
using Balancing.AspNetCore.Tests.Infrastructure;
using Balancing.Redis.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Balancing.Redis.Tests;

[TestClass]
public sealed class RedisRateLimitStoreTests
{
    [TestMethod]
    public async Task AcquireAsync_TwoInstances_EnforceOneSharedLimit()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var backend = await TestBackend.StartAsync("b1");
        var settings = BalancerHost.RateLimitedPoolSettings(10, backend);
        await using var first = await RedisTestHosts.StartAsync(redis, settings);
        await using var second = await RedisTestHosts.StartAsync(redis, settings);

        var granted = new[] { 0, 0 };
        var refused = 0;
        for (var i = 0; i < 20; i++)
        {
            var host = i % 2 == 0 ? first : second;
            using var response = await host.Client.GetAsync("/");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                granted[i % 2]++;
            }
            else
            {
                Assert.AreEqual(HttpStatusCode.TooManyRequests, response.StatusCode);
                refused++;
            }
        }

        // Each instance alone would allow 10: together they allow 10, five through each.
        Assert.AreEqual(5, granted[0]);
        Assert.AreEqual(5, granted[1]);
        Assert.AreEqual(10, refused);
        Assert.HasCount(10, backend.Received);
    }

    [TestMethod]
    public async Task AcquireAsync_RedisStopsAndReturns_EveryRequestAnsweredLocalLimitThenSharedAgain()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var backend = await TestBackend.StartAsync("b1");
        var settings = BalancerHost.RateLimitedPoolSettings(4, backend);
        await using var first = await RedisTestHosts.StartAsync(redis, settings);
        await using var second = await RedisTestHosts.StartAsync(redis, settings);

        Assert.AreEqual(HttpStatusCode.OK, (await first.Client.GetAsync("/")).StatusCode);
        Assert.AreEqual(HttpStatusCode.OK, (await second.Client.GetAsync("/")).StatusCode);

        await redis.StopAsync();

        // Redis had two of the four permits left; without it, the instance counts alone, from a full allowance.
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            using var response = await first.Client.GetAsync("/");
            statuses.Add(response.StatusCode);
        }

        CollectionAssert.AreEqual(
            new[] { HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests },
            statuses);

        // The outage is logged by whichever thread saw it first (a failed command or the dropped connection).
        await Eventually.TrueAsync(() => first.Count(310) > 0);
        Assert.AreEqual(1, first.Count(310));
        Assert.AreEqual(0, first.AvailableGauge());
        var down = first.Services.GetRequiredService<ILoadBalancerStatistics>().GetSnapshot().SharedState.Single();
        Assert.AreEqual("redis", down.Store);
        Assert.IsFalse(down.Available);
        Assert.AreEqual(1, down.Outages);

        await redis.RestartAsync();
        await Eventually.TrueAsync(() => first.Count(311) > 0 && second.Count(311) > 0);
        Assert.AreEqual(1, first.AvailableGauge());
        Assert.IsTrue(first.Services.GetRequiredService<ILoadBalancerStatistics>().GetSnapshot().SharedState.Single().Available);
        Assert.AreEqual(1, first.Count(310));
        Assert.AreEqual(1, first.Count(311));
        Assert.AreEqual(1, second.Count(311));

        // The restarted Redis is empty: four permits again, shared by both instances.
        var granted = 0;
        for (var i = 0; i < 8; i++)
        {
            using var response = await (i % 2 == 0 ? first : second).Client.GetAsync("/");
            Assert.IsTrue(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, $"Request {i} got {response.StatusCode}.");
            granted += response.StatusCode == HttpStatusCode.OK ? 1 : 0;
        }

        Assert.AreEqual(4, granted);
    }

    [TestMethod]
    public async Task AcquireAsync_RedisDownAtStartUp_ServesWithLocalLimitsUntilRedisComes()
    {
        await using var redis = await RedisServer.StartAsync();
        await redis.StopAsync();
        await using var backend = await TestBackend.StartAsync("b1");
        await using var host = await RedisTestHosts.StartAsync(redis, BalancerHost.RateLimitedPoolSettings(2, backend));

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await host.Client.GetAsync("/");
            statuses.Add(response.StatusCode);
        }

        CollectionAssert.AreEqual(new[] { HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests }, statuses);
        Assert.AreEqual(1, host.Count(310));

        await redis.RestartAsync();
        await Eventually.TrueAsync(() => host.Count(311) > 0);

        // Shared again: the empty Redis gives the client its two permits afresh.
        Assert.AreEqual(HttpStatusCode.OK, (await host.Client.GetAsync("/")).StatusCode);
        Assert.AreEqual(HttpStatusCode.OK, (await host.Client.GetAsync("/")).StatusCode);
        Assert.AreEqual(HttpStatusCode.TooManyRequests, (await host.Client.GetAsync("/")).StatusCode);
    }

    [TestMethod]
    public async Task AcquireAsync_RedisDownWithFailClosed_RefusesWithRetryAfter()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var backend = await TestBackend.StartAsync("b1");
        await using var host = await RedisTestHosts.StartAsync(redis, BalancerHost.RateLimitedPoolSettings(100, backend),
            options => options.OnUnavailable = RedisUnavailablePolicy.FailClosed);
        Assert.AreEqual(HttpStatusCode.OK, (await host.Client.GetAsync("/")).StatusCode);

        await redis.StopAsync();

        for (var i = 0; i < 3; i++)
        {
            using var response = await host.Client.GetAsync("/");
            Assert.AreEqual(HttpStatusCode.TooManyRequests, response.StatusCode);
            Assert.AreEqual("1", response.Headers.GetValues("Retry-After").Single());
        }

        Assert.HasCount(1, backend.Received);
    }
}
