using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Balancing.AspNetCore.Tests.Forwarding;

[TestClass]
public sealed class PeakEwmaForwardingTests
{
    private const string Pool = "LoadBalancer:Pools:default";
    private const int Clients = 30;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public async Task Get_OneBackend50msSlower_GetsFarLessThanAThirdAndTrafficAgainOnceRecovered()
    {
        var slow = 1;
        await using var b1 = await TestBackend.StartAsync("b1", context => AnswerAsync(context, "b1", slowDown: false));
        await using var b2 = await TestBackend.StartAsync("b2", context => AnswerAsync(context, "b2", slowDown: false));
        await using var b3 = await TestBackend.StartAsync("b3", context => AnswerAsync(context, "b3", Volatile.Read(ref slow) == 1));
        var settings = BalancerHost.PoolSettings(b1, b2, b3);
        settings[$"{Pool}:Strategy"] = "PeakEwma";
        settings[$"{Pool}:PeakEwma:DecayTime"] = "00:00:01";
        await using var balancer = await BalancerHost.StartAsync(settings);

        var whileSlow = await RoundAsync(balancer, requestsPerClient: 15);
        TestContext.WriteLine($"b3 50 ms slower: {Describe(whileSlow)}");
        Assert.IsLessThan(0.2, Share(whileSlow, "b3"), "a third would be 0.33");

        Volatile.Write(ref slow, 0);
        var rounds = 0;
        Dictionary<string, int> recovered = [];
        await Eventually.TrueAsync(
            async () =>
            {
                rounds++;
                recovered = await RoundAsync(balancer, requestsPerClient: 5);
                return Share(recovered, "b3") >= 0.2;
            },
            TimeSpan.FromSeconds(60));
        TestContext.WriteLine($"b3 fast again, round {rounds}: {Describe(recovered)}");
    }

    private static async Task AnswerAsync(HttpContext context, string name, bool slowDown)
    {
        if (slowDown)
        {
            // The backend's own latency, not a wait for anything in the test.
            await Task.Delay(50, context.RequestAborted);
        }

        context.Response.ContentType = "text/plain";
        await context.Response.WriteAsync(name, context.RequestAborted);
    }

    /// <summary>Thirty clients at once, each sending its requests one after another; counts the answers by backend.</summary>
    private static async Task<Dictionary<string, int>> RoundAsync(BalancerHost balancer, int requestsPerClient)
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, Clients).Select(async _ =>
        {
            var mine = new List<string>();
            for (var i = 0; i < requestsPerClient; i++)
            {
                mine.Add(await balancer.Client.GetStringAsync("/"));
            }

            return mine;
        }));
        return answers.SelectMany(a => a).GroupBy(a => a).ToDictionary(g => g.Key, g => g.Count());
    }

    private static double Share(Dictionary<string, int> counts, string backend)
        => counts.GetValueOrDefault(backend) / (double)counts.Values.Sum();

    private static string Describe(Dictionary<string, int> counts)
        => string.Join(", ", new[] { "b1", "b2", "b3" }.Select(b => $"{b}={counts.GetValueOrDefault(b)} ({Share(counts, b):P0})"));
}
