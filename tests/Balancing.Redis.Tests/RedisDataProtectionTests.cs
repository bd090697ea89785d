using Balancing.AspNetCore.Tests.Infrastructure;
using Balancing.Redis.Tests.Infrastructure;

namespace Balancing.Redis.Tests;

[TestClass]
public sealed class RedisDataProtectionTests
{
    [TestMethod]
    public async Task AffinityPin_IssuedByOneInstance_IsHonouredByAnother()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        var settings = BalancerHost.PoolSettings(b1, b2);
        settings["LoadBalancer:Pools:default:SessionAffinity:Enabled"] = "true";
        await using var first = await RedisTestHosts.StartAsync(redis, settings);
        await using var second = await RedisTestHosts.StartAsync(redis, settings);

        using var pinned = await first.Client.GetAsync("/");
        var backend = await pinned.Content.ReadAsStringAsync();
        var cookie = pinned.Headers.GetValues("Set-Cookie").Single().Split(';')[0];

        // Round robin alone would alternate between the two backends; the pin keeps every request on one.
        for (var i = 0; i < 6; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/");
            request.Headers.Add("Cookie", cookie);
            using var response = await second.Client.SendAsync(request);
            Assert.AreEqual(backend, await response.Content.ReadAsStringAsync());
            Assert.IsFalse(response.Headers.Contains("Set-Cookie"), "The second instance could not read the pin and issued its own.");
        }
    }

    [TestMethod]
    public async Task AffinityPool_InstanceStartedWhileRedisIsDown_ServesUnpinnedThenPinsOnceRedisIsBack()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        var settings = BalancerHost.PoolSettings(b1, b2);
        settings["LoadBalancer:Pools:default:SessionAffinity:Enabled"] = "true";
        await redis.StopAsync();
        await using var host = await RedisTestHosts.StartAsync(redis, settings);

        // No key ring can be read: requests are still served, by the strategy, and no pin is issued.
        var served = new HashSet<string>();
        for (var i = 0; i < 4; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/");
            request.Headers.Add("Cookie", ".Balancing.Affinity=bm90LWEtcGlu");
            using var response = await host.Client.SendAsync(request);
            Assert.AreEqual(System.Net.HttpStatusCode.OK, response.StatusCode, await response.Content.ReadAsStringAsync());
            Assert.IsFalse(response.Headers.Contains("Set-Cookie"), "a pin was issued without a key ring");
            served.Add(await response.Content.ReadAsStringAsync());
        }

        CollectionAssert.AreEquivalent(new[] { "b1", "b2" }, served.ToArray(), "round robin went on");
        Assert.AreEqual(1, host.Count(122), "the suspension is logged once, not per request");

        await redis.RestartAsync();
        await Eventually.TrueAsync(async () =>
        {
            using var response = await host.Client.GetAsync("/");
            return response.StatusCode == System.Net.HttpStatusCode.OK && response.Headers.Contains("Set-Cookie");
        }, Eventually.Patience);
        Assert.AreEqual(1, host.Count(123), "and so is the recovery");
    }
}
