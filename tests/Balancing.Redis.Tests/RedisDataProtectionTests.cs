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
}
