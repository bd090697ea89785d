using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Balancing.AspNetCore.Tests.Infrastructure;
using Balancing.Pools;

namespace Balancing.AspNetCore.Tests.Routing;

/// <summary>Routes follow appsettings edits: a valid edit switches routing under traffic, an invalid one changes nothing.</summary>
[TestClass]
public sealed class RouteReloadTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [TestMethod]
    public async Task EditPointingARouteAtANewPool_UnderTraffic_SwitchesWithoutLosingARequest()
    {
        await using var web = await TestBackend.StartAsync("web");
        await using var a1 = await TestBackend.StartAsync("a1");
        await using var a2 = await TestBackend.StartAsync("a2");
        using var file = new TempJsonFile(Config(web, ("api1", a1), apiPool: "api1"));
        await using var balancer = await BalancerHost.StartAsync(new Dictionary<string, string?>(), jsonFile: file.Path);
        Assert.AreEqual("a1", await balancer.Client.GetStringAsync("/api/first"));
        var failures = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var traffic = Enumerable.Range(0, 4).Select(_ => SendUntilStoppedAsync(balancer.Client, failures, stop.Token)).ToArray();
        await Eventually.TrueAsync(() => a1.Received.Count >= 20);

        var applied = balancer.NextConfigurationChange();
        file.Write(Config(web, ("api1", a1), ("api2", a2), apiPool: "api2"));
        var result = await applied.WaitAsync(Patience);
        var afterwards = await balancer.Client.GetStringAsync("/api/after");
        var a2Before = a2.Received.Count;
        await Eventually.TrueAsync(() => a2.Received.Count >= a2Before + 20);
        await stop.CancelAsync();
        await Task.WhenAll(traffic);

        Assert.IsTrue(result.Applied, string.Join("; ", result.Errors));
        Assert.AreEqual("a2", afterwards, "the first request after the change uses the new routes");
        Assert.IsTrue(failures.IsEmpty, string.Join("; ", failures.Take(5)));
        Assert.IsEmpty(web.Received, "the catch-all route never took an /api request");
    }

    [TestMethod]
    public async Task EditNamingAnUnknownPool_IsRejectedAndTheRoutesInForceKeepServing()
    {
        await using var web = await TestBackend.StartAsync("web");
        await using var a1 = await TestBackend.StartAsync("a1");
        using var file = new TempJsonFile(Config(web, ("api1", a1), apiPool: "api1"));
        await using var balancer = await BalancerHost.StartAsync(new Dictionary<string, string?>(), jsonFile: file.Path);

        var changed = balancer.NextConfigurationChange();
        file.Write(Config(web, ("api1", a1), apiPool: "apii"));
        var result = await changed.WaitAsync(Patience);

        Assert.IsFalse(result.Applied);
        Assert.IsTrue(result.Errors.Any(e => e.StartsWith("LoadBalancer:Routes:api:Pool: unknown pool 'apii'", StringComparison.Ordinal)), string.Join("; ", result.Errors));
        Assert.AreEqual("a1", await balancer.Client.GetStringAsync("/api/x"));
        Assert.AreEqual("web", await balancer.Client.GetStringAsync("/x"));
    }

    [TestMethod]
    public async Task EditRemovingEveryRoute_WithoutADefaultPool_IsRejected()
    {
        await using var a1 = await TestBackend.StartAsync("a1");
        using var file = new TempJsonFile(JsonSerializer.Serialize(new
        {
            LoadBalancer = new
            {
                Pools = new Dictionary<string, object> { ["api1"] = new { Backends = new { a1 = new { a1.Address } } } },
                Routes = new Dictionary<string, object> { ["all"] = new { Path = "/{**rest}", Pool = "api1" } },
            },
        }));
        await using var balancer = await BalancerHost.StartAsync(new Dictionary<string, string?>(), jsonFile: file.Path);

        var changed = balancer.NextConfigurationChange();
        file.Write(JsonSerializer.Serialize(new
        {
            LoadBalancer = new { Pools = new Dictionary<string, object> { ["api1"] = new { Backends = new { a1 = new { a1.Address } } } } },
        }));
        var result = await changed.WaitAsync(Patience);

        Assert.IsFalse(result.Applied);
        Assert.IsTrue(result.Errors.Any(e => e.StartsWith("LoadBalancer:Pools:default:", StringComparison.Ordinal)), string.Join("; ", result.Errors));
        Assert.AreEqual("a1", await balancer.Client.GetStringAsync("/still/routed"));
    }

    /// <summary>Pool <c>default</c> over <paramref name="web"/>, the API pools, a route /api → <paramref name="apiPool"/> and a catch-all.</summary>
    private static string Config(TestBackend web, (string Pool, TestBackend Backend) first, (string Pool, TestBackend Backend)? second = null, string apiPool = "api1")
    {
        var pools = new Dictionary<string, object>
        {
            ["default"] = new { Backends = new Dictionary<string, object> { [web.Name] = new { web.Address } } },
            [first.Pool] = new { Backends = new Dictionary<string, object> { [first.Backend.Name] = new { first.Backend.Address } } },
        };
        if (second is { } more)
        {
            pools[more.Pool] = new { Backends = new Dictionary<string, object> { [more.Backend.Name] = new { more.Backend.Address } } };
        }

        return JsonSerializer.Serialize(new
        {
            LoadBalancer = new
            {
                Pools = pools,
                Routes = new Dictionary<string, object>
                {
                    ["api"] = new { Path = "/api/{**rest}", Pool = apiPool },
                    ["rest"] = new { Path = "/{**rest}", Pool = "default" },
                },
            },
        });
    }

    private static async Task SendUntilStoppedAsync(HttpClient client, ConcurrentQueue<string> failures, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var response = await client.GetAsync("/api/work", CancellationToken.None);
                var body = await response.Content.ReadAsStringAsync(CancellationToken.None);
                if (response.StatusCode != HttpStatusCode.OK || body is not ("a1" or "a2"))
                {
                    failures.Enqueue($"{(int)response.StatusCode}: {body}");
                }
            }
            catch (HttpRequestException ex)
            {
                failures.Enqueue(ex.Message);
            }
        }
    }
}
