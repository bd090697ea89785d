using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Balancing.AspNetCore.Tests.Forwarding;

[TestClass]
public sealed class LeastConnectionsForwardingTests(TestContext testContext)
{
    private const int Clients = 30;
    private const int RequestsPerClient = 30;
    private const int Requests = Clients * RequestsPerClient;

    [TestMethod]
    public async Task Get_OneBackendSlower_LeastConnectionsSendsItClearlyLessThanAThird()
    {
        var shares = await RunAsync(LoadStrategyNames.LeastConnections);

        // Every backend would get a third (300) if in-flight counts were ignored; the slow one holds its requests
        // 50 ms longer, so it should seldom be the least loaded.
        Assert.IsLessThan(Requests / 4, shares[0], $"slow backend got {shares[0]} of {Requests}");
        Assert.AreEqual(Requests, shares.Sum());
    }

    [TestMethod]
    public async Task Get_OneBackendSlower_RoundRobinSendsItExactlyAThird()
    {
        var shares = await RunAsync(LoadStrategyNames.RoundRobin);

        Assert.AreSequenceEqual(new[] { Requests / 3, Requests / 3, Requests / 3 }, shares);
    }

    /// <summary>Thirty clients each send thirty requests one after another; returns how many each backend received.</summary>
    private async Task<int[]> RunAsync(string strategy)
    {
        await using var slow = await TestBackend.StartAsync("slow", async context =>
        {
            // A real delay: the point is a backend that holds its requests longer than the others.
            await Task.Delay(50, context.RequestAborted);
            await context.Response.WriteAsync("slow");
        });
        await using var fast1 = await TestBackend.StartAsync("fast1");
        await using var fast2 = await TestBackend.StartAsync("fast2");
        var settings = BalancerHost.PoolSettings(slow, fast1, fast2);
        settings["LoadBalancer:Pools:default:Strategy"] = strategy;
        await using var balancer = await BalancerHost.StartAsync(settings);

        var failures = 0;
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(async _ =>
        {
            for (var i = 0; i < RequestsPerClient; i++)
            {
                using var response = await balancer.Client.GetAsync("/work");
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }));

        int[] shares = [slow.Received.Count, fast1.Received.Count, fast2.Received.Count];
        testContext.WriteLine($"{strategy}: slow {shares[0]} ({100.0 * shares[0] / Requests:F1} %), fast1 {shares[1]}, fast2 {shares[2]} of {Requests}");
        Assert.AreEqual(0, failures);
        return shares;
    }
}
