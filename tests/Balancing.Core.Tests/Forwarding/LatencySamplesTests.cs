using System.Net;
using Balancing.Core.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Balancing.Core.Tests.Forwarding;

/// <summary>What the balanced sender feeds into each backend's latency estimate.</summary>
[TestClass]
public sealed class LatencySamplesTests
{
    private const string Pool = "LoadBalancer:Pools:default";

    [TestMethod]
    public async Task SendAsync_Response_RecordsTheTimeToItsHeaders()
    {
        var clock = new FakeTimeProvider();
        var handler = new FakeHttpHandler((_, _) =>
        {
            clock.Advance(TimeSpan.FromMilliseconds(40));
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
        });
        using var balancer = TestBalancer.CreateWithHandler(Settings.Pool("default", ("b1", "http://b1.test")), handler, clock);

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/", UriKind.Relative));
        var result = await balancer.Sender.SendAsync(balancer.Pool(), request, new BalancingContext(null), CancellationToken.None);
        result.Response?.Dispose();

        Assert.AreEqual(40, balancer.Pool().FindBackend("b1")!.LatencyEstimate!.Value.TotalMilliseconds, 0.01);
    }

    [TestMethod]
    public async Task SendAsync_ErrorStatus_CountsItsLatencyToo()
    {
        var clock = new FakeTimeProvider();
        var handler = new FakeHttpHandler((_, _) =>
        {
            clock.Advance(TimeSpan.FromMilliseconds(7));
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.InternalServerError));
        });
        using var balancer = TestBalancer.CreateWithHandler(Settings.Pool("default", ("b1", "http://b1.test")), handler, clock);

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/", UriKind.Relative));
        var result = await balancer.Sender.SendAsync(balancer.Pool(), request, new BalancingContext(null), CancellationToken.None);
        result.Response?.Dispose();

        Assert.AreEqual(7, balancer.Pool().FindBackend("b1")!.LatencyEstimate!.Value.TotalMilliseconds, 0.01);
    }

    [TestMethod]
    public async Task SendAsync_RefusedConnection_NeverMakesTheBackendLookFaster()
    {
        var clock = new FakeTimeProvider();
        var handler = FakeHttpHandler.Throwing(new HttpRequestException(HttpRequestError.ConnectionError, "refused"));
        using var balancer = TestBalancer.CreateWithHandler(
            Settings.Pool("default", ("b1", "http://b1.test")).With($"{Pool}:Retry:Enabled", "false"),
            handler,
            clock);
        var backend = balancer.Pool().FindBackend("b1")!;
        backend.RecordLatency(TimeSpan.FromMilliseconds(80), TimeSpan.FromSeconds(10), clock);
        clock.Advance(TimeSpan.FromSeconds(5));

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/", UriKind.Relative));
        var result = await balancer.Sender.SendAsync(balancer.Pool(), request, new BalancingContext(null), CancellationToken.None);

        // The refusal took no time at all; it counts as the estimate it found, and restarts the decay from now.
        Assert.AreEqual(ForwardError.ConnectFailed, result.Error);
        Assert.AreEqual(80, backend.LatencyEstimate!.Value.TotalMilliseconds, 0.01);
        Assert.AreEqual(80, backend.GetLatencyEstimate(TimeSpan.FromSeconds(10), clock)!.Value.TotalMilliseconds, 0.01);
    }

    [TestMethod]
    public async Task SendAsync_RefusedConnectionOfANewBackend_CountsAsTheDefaultLatency()
    {
        var clock = new FakeTimeProvider();
        var handler = FakeHttpHandler.Throwing(new HttpRequestException(HttpRequestError.ConnectionError, "refused"));
        using var balancer = TestBalancer.CreateWithHandler(
            Settings.Pool("default", ("b1", "http://b1.test")).With($"{Pool}:Retry:Enabled", "false"),
            handler,
            clock);

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/", UriKind.Relative));
        await balancer.Sender.SendAsync(balancer.Pool(), request, new BalancingContext(null), CancellationToken.None);

        Assert.AreEqual(30, balancer.Pool().FindBackend("b1")!.LatencyEstimate!.Value.TotalMilliseconds, 0.01);
    }

    [TestMethod]
    public async Task SendAsync_CallerCancels_RecordsNothing()
    {
        var clock = new FakeTimeProvider();
        using var balancer = TestBalancer.CreateWithHandler(
            Settings.Pool("default", ("b1", "http://b1.test")).With($"{Pool}:Retry:Enabled", "false"),
            FakeHttpHandler.WaitingForCancellation(),
            clock);
        using var cancel = new CancellationTokenSource();

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/", UriKind.Relative));
        var sending = balancer.Sender.SendAsync(balancer.Pool(), request, new BalancingContext(null), cancel.Token);
        await cancel.CancelAsync();
        var result = await sending;

        Assert.AreEqual(ForwardError.Canceled, result.Error);
        Assert.IsNull(balancer.Pool().FindBackend("b1")!.LatencyEstimate);
    }
}
