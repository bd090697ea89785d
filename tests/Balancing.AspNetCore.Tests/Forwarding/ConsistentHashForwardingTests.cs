using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Balancing.AspNetCore.Tests.Forwarding;

[TestClass]
public sealed class ConsistentHashForwardingTests
{
    private const string Pool = "LoadBalancer:Pools:default";

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task Get_HeaderKey_SameKeyAlwaysReachesTheSameBackendAndKeysSpread()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        await using var b3 = await TestBackend.StartAsync("b3");
        var settings = BalancerHost.PoolSettings(b1, b2, b3);
        settings[$"{Pool}:Strategy"] = "ConsistentHash";
        settings[$"{Pool}:ConsistentHash:Key"] = "Header";
        settings[$"{Pool}:ConsistentHash:KeyName"] = "X-User";
        settings[$"{Pool}:ConsistentHash:BoundedLoad"] = "0";
        await using var balancer = await BalancerHost.StartAsync(settings);

        var homes = new Dictionary<string, string>();
        for (var user = 0; user < 20; user++)
        {
            var answers = new HashSet<string>();
            for (var i = 0; i < 5; i++)
            {
                answers.Add(await GetAsync(balancer, "/profile", ("X-User", $"user-{user}")));
            }

            homes[$"user-{user}"] = Assert.ContainsSingle(answers);
        }

        TestContext.WriteLine(string.Join(", ", homes.GroupBy(h => h.Value).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()} users")));
        Assert.IsGreaterThanOrEqualTo(2, homes.Values.Distinct().Count());
    }

    [TestMethod]
    public async Task Get_ClientIpBehindATrustedProxy_EachForwardedClientKeepsItsBackend()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        await using var b3 = await TestBackend.StartAsync("b3");
        var settings = BalancerHost.PoolSettings(b1, b2, b3);
        settings[$"{Pool}:Strategy"] = "ConsistentHash";
        settings[$"{Pool}:ConsistentHash:BoundedLoad"] = "0";
        settings["LoadBalancer:Forwarding:XForwarded"] = "Append";
        settings["LoadBalancer:Forwarding:TrustedProxies:0"] = "127.0.0.1";
        await using var balancer = await BalancerHost.StartAsync(settings);

        var homes = new List<string>();
        for (var client = 1; client <= 20; client++)
        {
            var first = await GetAsync(balancer, "/", ("X-Forwarded-For", $"203.0.113.{client}"));
            var second = await GetAsync(balancer, "/other", ("X-Forwarded-For", $"203.0.113.{client}"));
            Assert.AreEqual(first, second, $"client 203.0.113.{client}");
            homes.Add(first);
        }

        Assert.IsGreaterThanOrEqualTo(2, homes.Distinct().Count());
    }

    [TestMethod]
    public async Task Get_ClientIpWithoutTrustedProxies_ForwardedForIsIgnored()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        await using var b3 = await TestBackend.StartAsync("b3");
        var settings = BalancerHost.PoolSettings(b1, b2, b3);
        settings[$"{Pool}:Strategy"] = "ConsistentHash";
        settings[$"{Pool}:ConsistentHash:BoundedLoad"] = "0";
        await using var balancer = await BalancerHost.StartAsync(settings);

        var answers = new HashSet<string>();
        for (var client = 1; client <= 20; client++)
        {
            answers.Add(await GetAsync(balancer, "/", ("X-Forwarded-For", $"203.0.113.{client}")));
        }

        // Every request comes from 127.0.0.1, and a client cannot choose its backend by writing a header.
        Assert.ContainsSingle(answers);
    }

    [TestMethod]
    public async Task Get_OneHotKeyWithBoundedLoad_NoBackendHoldsMoreThanItsBound()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async Task Held(Microsoft.AspNetCore.Http.HttpContext context) => await release.Task;
        await using var b1 = await TestBackend.StartAsync("b1", Held);
        await using var b2 = await TestBackend.StartAsync("b2", Held);
        await using var b3 = await TestBackend.StartAsync("b3", Held);
        var settings = BalancerHost.PoolSettings(b1, b2, b3);
        settings[$"{Pool}:Strategy"] = "ConsistentHash";
        settings[$"{Pool}:ConsistentHash:Key"] = "Path";
        await using var balancer = await BalancerHost.StartAsync(settings);

        // 30 requests for one path, all held by the backends: without the bound they would all wait on one backend.
        var requests = Enumerable.Range(0, 30).Select(_ => balancer.Client.GetAsync("/hot")).ToArray();
        try
        {
            await Eventually.TrueAsync(() => b1.Received.Count + b2.Received.Count + b3.Received.Count == 30);
            TestContext.WriteLine($"b1={b1.Received.Count}, b2={b2.Received.Count}, b3={b3.Received.Count}");

            // ceil((1 + 0.25) × 30 / 3) = 13.
            Assert.IsLessThanOrEqualTo(13, new[] { b1.Received.Count, b2.Received.Count, b3.Received.Count }.Max());
        }
        finally
        {
            release.SetResult();
            foreach (var response in await Task.WhenAll(requests))
            {
                response.Dispose();
            }
        }
    }

    [TestMethod]
    public async Task Start_HeaderKeyWithoutKeyName_FailsNamingTheKey()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => BalancerHost.StartAsync(new Dictionary<string, string?>
        {
            [$"{Pool}:Backends:b1:Address"] = "http://127.0.0.1:9001",
            [$"{Pool}:Strategy"] = "ConsistentHash",
            [$"{Pool}:ConsistentHash:Key"] = "Header",
        }));

        StringAssert.Contains(error.Message, $"{Pool}:ConsistentHash:KeyName: is required when Key is Header");
    }

    private static async Task<string> GetAsync(BalancerHost balancer, string path, (string Name, string Value) header)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation(header.Name, header.Value);
        using var response = await balancer.Client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }
}
