using Balancing.AspNetCore.Tests.Infrastructure;

namespace Balancing.AspNetCore.Tests.Forwarding;

[TestClass]
public sealed class RoundRobinForwardingTests
{
    [TestMethod]
    public async Task Get_ThreeBackends_EachReceivesExactlyATurnInOrder()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        await using var b3 = await TestBackend.StartAsync("b3");
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(b1, b2, b3));

        var answers = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            answers.Add(await balancer.Client.GetStringAsync($"/item/{i}"));
        }

        CollectionAssert.AreEqual(
            Enumerable.Range(0, 30).Select(i => $"b{(i % 3) + 1}").ToList(),
            answers);
        Assert.AreEqual(10, b1.Received.Count);
        Assert.AreEqual(10, b2.Received.Count);
        Assert.AreEqual(10, b3.Received.Count);
    }

    [TestMethod]
    public async Task Get_ConcurrentRequests_SpreadEvenly()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(b1, b2));

        await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => balancer.Client.GetStringAsync("/")));

        Assert.AreEqual(100, b1.Received.Count);
        Assert.AreEqual(100, b2.Received.Count);
    }
}
