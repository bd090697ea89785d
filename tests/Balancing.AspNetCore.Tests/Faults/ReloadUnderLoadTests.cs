using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Balancing.AspNetCore.Tests.Infrastructure;

namespace Balancing.AspNetCore.Tests.Faults;

/// <summary>Configuration reloaded again and again while requests flow: every request is answered 200 by a backend.</summary>
[TestClass]
public sealed class ReloadUnderLoadTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [TestMethod]
    public async Task RepeatedReloads_AddingRemovingAndReweighingBackends_LoseNoRequest()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        await using var b3 = await TestBackend.StartAsync("b3");
        (TestBackend Backend, int Weight)[][] steps =
        [
            [(b1, 1), (b2, 5), (b3, 1)],
            [(b2, 1), (b3, 3)],
            [(b1, 4), (b3, 1)],
            [(b3, 1)],
            [(b1, 1), (b2, 1), (b3, 1)],
            [(b2, 2)],
        ];
        using var file = new TempJsonFile(Config([(b1, 1), (b2, 1)]));
        await using var balancer = await BalancerHost.StartAsync(new Dictionary<string, string?>(), jsonFile: file.Path);
        var failures = new ConcurrentQueue<string>();
        var served = new Counter();
        using var stop = new CancellationTokenSource();
        var traffic = Enumerable.Range(0, 8).Select(_ => SendUntilStoppedAsync(balancer.Client, served, failures, stop.Token)).ToArray();

        foreach (var step in steps)
        {
            // Each configuration carries traffic before the next one replaces it.
            var before = served.Count;
            await Eventually.TrueAsync(() => served.Count >= before + 50, Patience);
            var applied = balancer.NextConfigurationChange();
            file.Write(Config(step));
            var result = await applied.WaitAsync(Patience);
            Assert.IsTrue(result.Applied, string.Join("; ", result.Errors));
        }

        var last = served.Count;
        await Eventually.TrueAsync(() => served.Count >= last + 50, Patience);
        await stop.CancelAsync();
        await Task.WhenAll(traffic);

        Assert.IsTrue(failures.IsEmpty, $"{failures.Count} failed: {string.Join("; ", failures.Take(5))}");
        var pool = balancer.Registry.GetPool("default")!;
        Assert.AreEqual("b2", Assert.ContainsSingle(pool.Backends).Id);
        Assert.IsFalse(b1.Received.IsEmpty || b2.Received.IsEmpty || b3.Received.IsEmpty, "every backend served some configuration");
    }

    private static string Config((TestBackend Backend, int Weight)[] backends) => JsonSerializer.Serialize(new
    {
        LoadBalancer = new
        {
            Pools = new Dictionary<string, object>
            {
                ["default"] = new
                {
                    Strategy = "WeightedRoundRobin",
                    Backends = backends.ToDictionary(b => b.Backend.Name, b => new { b.Backend.Address, b.Weight }),
                },
            },
        },
    });

    private static async Task SendUntilStoppedAsync(HttpClient client, Counter served, ConcurrentQueue<string> failures, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var response = await client.GetAsync("/", CancellationToken.None);
                var body = await response.Content.ReadAsStringAsync(CancellationToken.None);
                if (response.StatusCode != HttpStatusCode.OK || body is not ("b1" or "b2" or "b3"))
                {
                    failures.Enqueue($"{(int)response.StatusCode}: {body}");
                }
                else
                {
                    served.Increment();
                }
            }
            catch (HttpRequestException ex)
            {
                failures.Enqueue(ex.Message);
            }
        }
    }

    private sealed class Counter
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Increment() => Interlocked.Increment(ref _count);
    }
}
