using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Balancing.AspNetCore.Tests.Infrastructure;
using Balancing.Pools;
using Microsoft.AspNetCore.Http;

namespace Balancing.AspNetCore.Tests.Configuration;

[TestClass]
public sealed class ReloadTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [TestMethod]
    public async Task EditAddingAndRemovingBackends_UnderTraffic_LosesNoRequestAndKeepsState()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        await using var b3 = await TestBackend.StartAsync("b3");
        using var file = new TempJsonFile(Config(b1, b2));
        await using var balancer = await BalancerHost.StartAsync(new Dictionary<string, string?>(), jsonFile: file.Path);
        var b2StateBefore = balancer.Registry.GetPool("default")!.FindBackend("b2");
        var failures = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var traffic = Enumerable.Range(0, 4).Select(_ => SendUntilStoppedAsync(balancer.Client, failures, stop.Token)).ToArray();

        var applied = balancer.NextConfigurationChange();
        file.Write(Config(b2, b3));
        var result = await applied.WaitAsync(Patience);
        var b3ServedBefore = b3.Received.Count;
        await Eventually.TrueAsync(() => b3.Received.Count >= b3ServedBefore + 20);
        await stop.CancelAsync();
        await Task.WhenAll(traffic);

        Assert.IsTrue(result.Applied, string.Join("; ", result.Errors));
        Assert.IsTrue(failures.IsEmpty, string.Join("; ", failures.Take(5)));
        var pool = balancer.Registry.GetPool("default")!;
        CollectionAssert.AreEqual(new[] { "b2", "b3" }, pool.Backends.Select(b => b.Id).ToArray());
        Assert.AreSame(b2StateBefore, pool.FindBackend("b2"), "a surviving backend keeps its live state");
    }

    [TestMethod]
    public async Task RemovingABackendWithARequestInFlight_LetsThatRequestFinish()
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var slow = await TestBackend.StartAsync("slow", async context =>
        {
            reached.TrySetResult();
            await release.Task;
            await context.Response.WriteAsync("finished");
        });
        await using var other = await TestBackend.StartAsync("other");
        using var file = new TempJsonFile(Config(slow));
        await using var balancer = await BalancerHost.StartAsync(new Dictionary<string, string?>(), jsonFile: file.Path);

        var pending = balancer.Client.GetStringAsync("/");
        await reached.Task.WaitAsync(Patience);
        var applied = balancer.NextConfigurationChange();
        file.Write(Config(other));
        Assert.IsTrue((await applied.WaitAsync(Patience)).Applied);
        release.SetResult();

        Assert.AreEqual("finished", await pending.WaitAsync(Patience));
        Assert.AreEqual("other", await balancer.Client.GetStringAsync("/"));
    }

    [TestMethod]
    public async Task InvalidEdit_IsRejectedLoggedAndThePreviousConfigurationKeepsServing()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        using var file = new TempJsonFile(Config(b1));
        await using var balancer = await BalancerHost.StartAsync(new Dictionary<string, string?>(), jsonFile: file.Path);
        var before = balancer.Registry.Options;

        var changed = balancer.NextConfigurationChange();
        file.Write("""{ "LoadBalancer": { "Pools": { "default": { "Backends": { "b1": { "Address": "not-a-url" } } } } } }""");
        var result = await changed.WaitAsync(Patience);

        Assert.IsFalse(result.Applied);
        Assert.IsTrue(result.Errors.Any(e => e.Contains("LoadBalancer:Pools:default:Backends:b1:Address", StringComparison.Ordinal)));
        Assert.AreSame(before, balancer.Registry.Options);
        Assert.AreEqual("b1", await balancer.Client.GetStringAsync("/"));
        Assert.IsTrue(balancer.Logs.GetSnapshot().Any(r => r.Id.Name == "ConfigurationRejected"));
    }

    [TestMethod]
    public async Task EditEmptyingTheMountedPool_IsRejected()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        using var file = new TempJsonFile(Config(b1));
        await using var balancer = await BalancerHost.StartAsync(new Dictionary<string, string?>(), jsonFile: file.Path);

        var changed = balancer.NextConfigurationChange();
        file.Write("""{ "LoadBalancer": { "Pools": { "default": { "Strategy": "RoundRobin" } } } }""");
        var result = await changed.WaitAsync(Patience);

        Assert.IsFalse(result.Applied);
        Assert.AreEqual(HttpStatusCode.OK, (await balancer.Client.GetAsync("/")).StatusCode);
    }

    private static string Config(params TestBackend[] backends) => JsonSerializer.Serialize(new
    {
        LoadBalancer = new
        {
            Pools = new Dictionary<string, object>
            {
                ["default"] = new { Backends = backends.ToDictionary(b => b.Name, b => new { b.Address }) },
            },
        },
    });

    private static async Task SendUntilStoppedAsync(HttpClient client, ConcurrentQueue<string> failures, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var response = await client.GetAsync("/", CancellationToken.None);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    failures.Enqueue($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(CancellationToken.None)}");
                }
            }
            catch (HttpRequestException ex)
            {
                failures.Enqueue(ex.Message);
            }
        }
    }
}
