using System.Net;
using Balancing.Core.Tests.Infrastructure;

namespace Balancing.Core.Tests.Forwarding;

/// <summary>Session affinity in the engine: how <see cref="BalancedSender"/> treats a request pinned to a backend.</summary>
[TestClass]
public sealed class PinnedBackendTests
{
    private const string Affinity = "LoadBalancer:Pools:default:SessionAffinity";

    [TestMethod]
    public async Task SendAsync_PinnedBackendAvailable_EveryRequestGoesThere()
    {
        var handler = new FakeHttpHandler();
        using var balancer = TestBalancer.CreateWithHandler(Settings.DefaultPool(), handler);

        var chosen = new List<string?>();
        for (var i = 0; i < 6; i++)
        {
            chosen.Add(await SendAsync(balancer, "b2"));
        }

        Assert.AreSequenceEqual(Enumerable.Repeat<string?>("b2", 6), chosen);
    }

    [TestMethod]
    public async Task SendAsync_PinDiffersInCase_StillFindsTheBackend()
    {
        using var balancer = TestBalancer.CreateWithHandler(Settings.DefaultPool(), new FakeHttpHandler());

        Assert.AreEqual("b3", await SendAsync(balancer, "B3"));
    }

    [TestMethod]
    public async Task SendAsync_NoPin_FollowsTheStrategy()
    {
        using var balancer = TestBalancer.CreateWithHandler(Settings.DefaultPool(), new FakeHttpHandler());

        var chosen = new[] { await SendAsync(balancer, null), await SendAsync(balancer, null), await SendAsync(balancer, null) };

        Assert.AreSequenceEqual(new[] { "b1", "b2", "b3" }, chosen);
    }

    [TestMethod]
    [DataRow("drained")]
    [DataRow("unhealthy")]
    [DataRow("ejected")]
    [DataRow("removed")]
    public async Task SendAsync_PinnedBackendUnavailableWithRedistribute_TheStrategyChooses(string why)
    {
        var handler = new FakeHttpHandler();
        using var balancer = TestBalancer.CreateWithHandler(
            Settings.DefaultPool().With("LoadBalancer:Pools:default:HealthCheck:PanicThreshold", "0"), handler);
        await MakeUnavailableAsync(balancer, "b1", why);

        var chosen = new[] { await SendAsync(balancer, "b1"), await SendAsync(balancer, "b1") };

        Assert.AreSequenceEqual(new[] { "b2", "b3" }, chosen);
    }

    [TestMethod]
    [DataRow("drained")]
    [DataRow("unhealthy")]
    [DataRow("ejected")]
    [DataRow("removed")]
    public async Task SendAsync_PinnedBackendUnavailableWithFail_NoAvailableBackendAndNothingSent(string why)
    {
        var handler = new FakeHttpHandler();
        using var balancer = TestBalancer.CreateWithHandler(
            Settings.DefaultPool()
                .With("LoadBalancer:Pools:default:HealthCheck:PanicThreshold", "0")
                .With($"{Affinity}:OnUnavailable", "Fail"),
            handler);
        await MakeUnavailableAsync(balancer, "b1", why);

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/", UriKind.Relative));
        var result = await balancer.Sender.SendAsync(balancer.Pool(), request, new BalancingContext(null) { AffinityBackendId = "b1" }, CancellationToken.None);

        Assert.AreEqual((ForwardError.NoAvailableBackend, 0), (result.Error, handler.Calls));
    }

    [TestMethod]
    [DataRow(null)]
    [DataRow("00:00:30")]
    public async Task SendAsync_PinnedBackendRefusesWithRedistribute_RetriedElsewhere(string? totalTimeout)
    {
        var handler = RefusingHost("b1.test");
        using var balancer = TestBalancer.CreateWithHandler(
            Settings.DefaultPool().With("LoadBalancer:Pools:default:Retry:TotalTimeout", totalTimeout), handler);

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/", UriKind.Relative));
        var result = await balancer.Sender.SendAsync(balancer.Pool(), request, new BalancingContext(null) { AffinityBackendId = "b1" }, CancellationToken.None);
        result.Response?.Dispose();

        Assert.AreEqual((ForwardError.None, 2), (result.Error, handler.Calls));
        Assert.AreNotEqual("b1", result.Backend?.Id);
    }

    [TestMethod]
    [DataRow(null)]
    [DataRow("00:00:30")]
    public async Task SendAsync_PinnedBackendRefusesWithFail_NoAvailableBackendWithoutRetry(string? totalTimeout)
    {
        var handler = RefusingHost("b1.test");
        using var balancer = TestBalancer.CreateWithHandler(
            Settings.DefaultPool()
                .With("LoadBalancer:Pools:default:Retry:TotalTimeout", totalTimeout)
                .With($"{Affinity}:OnUnavailable", "Fail"),
            handler);

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/", UriKind.Relative));
        var result = await balancer.Sender.SendAsync(balancer.Pool(), request, new BalancingContext(null) { AffinityBackendId = "b1" }, CancellationToken.None);

        Assert.AreEqual((ForwardError.NoAvailableBackend, "b1", 1), (result.Error, result.Backend?.Id, handler.Calls));
    }

    [TestMethod]
    public async Task SendAsync_PinnedBackendRefusesWithFailAndNoRetries_NoAvailableBackend()
    {
        var handler = RefusingHost("b1.test");
        using var balancer = TestBalancer.CreateWithHandler(
            Settings.DefaultPool()
                .With("LoadBalancer:Pools:default:Retry:Enabled", "false")
                .With($"{Affinity}:OnUnavailable", "Fail"),
            handler);

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/", UriKind.Relative));
        var result = await balancer.Sender.SendAsync(balancer.Pool(), request, new BalancingContext(null) { AffinityBackendId = "b1" }, CancellationToken.None);

        Assert.AreEqual((ForwardError.NoAvailableBackend, 1), (result.Error, handler.Calls));
    }

    [TestMethod]
    public async Task SendAsync_PinnedBackendAnswers503WithFail_TheAnswerIsReturnedNotRetried()
    {
        var handler = new FakeHttpHandler((_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)));
        using var balancer = TestBalancer.CreateWithHandler(Settings.DefaultPool().With($"{Affinity}:OnUnavailable", "Fail"), handler);

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/", UriKind.Relative));
        var result = await balancer.Sender.SendAsync(balancer.Pool(), request, new BalancingContext(null) { AffinityBackendId = "b2" }, CancellationToken.None);
        using var response = result.Response;

        Assert.AreEqual((HttpStatusCode.ServiceUnavailable, "b2", 1), (response?.StatusCode, result.Backend?.Id, handler.Calls));
    }

    [TestMethod]
    public async Task SendAsync_UnpinnedRequestInFailPool_StillFailsOver()
    {
        var handler = RefusingHost("b1.test");
        using var balancer = TestBalancer.CreateWithHandler(Settings.DefaultPool().With($"{Affinity}:OnUnavailable", "Fail"), handler);

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/", UriKind.Relative));
        var result = await balancer.Sender.SendAsync(balancer.Pool(), request, new BalancingContext(null), CancellationToken.None);
        result.Response?.Dispose();

        Assert.AreEqual((ForwardError.None, 2), (result.Error, handler.Calls));
        Assert.AreNotEqual("b1", result.Backend?.Id);
    }

    [TestMethod]
    public void Find_NoMatch_ReturnsNull()
    {
        BackendState[] candidates = [new("b1", new Uri("http://b1.test")), new("b2", new Uri("http://b2.test"))];

        Assert.IsNull(Balancing.Forwarding.PinnedBackend.Find(candidates, "b3"));
    }

    private static async Task<string?> SendAsync(TestBalancer balancer, string? pinned)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/", UriKind.Relative));
        var result = await balancer.Sender.SendAsync(balancer.Pool(), request, new BalancingContext(null) { AffinityBackendId = pinned }, CancellationToken.None);
        result.Complete(BackendOutcome.Success);
        result.Response?.Dispose();
        return result.Backend?.Id;
    }

    private static FakeHttpHandler RefusingHost(string host) => new((request, _) => request.RequestUri!.Host == host
        ? Task.FromException<HttpResponseMessage>(new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused"))
        : Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)));

    private static async Task MakeUnavailableAsync(TestBalancer balancer, string backendId, string why)
    {
        var pool = balancer.Pool();
        switch (why)
        {
            case "drained":
                Assert.IsTrue((await balancer.ChangeAndWaitAsync(Settings.DefaultPool()
                    .With("LoadBalancer:Pools:default:HealthCheck:PanicThreshold", "0")
                    .With($"{Affinity}:OnUnavailable", pool.Options.SessionAffinity.OnUnavailable.ToString())
                    .With(Settings.BackendKey("default", backendId, "Weight"), "0"))).Applied);
                break;
            case "unhealthy":
                pool.FindBackend(backendId)!.SetHealth(BackendHealth.Unhealthy, "test", DateTimeOffset.UnixEpoch);
                break;
            case "ejected":
                pool.FindBackend(backendId)!.Eject(DateTimeOffset.MaxValue);
                break;
            default:
                Assert.IsTrue((await balancer.ChangeAndWaitAsync(Settings.DefaultPool()
                    .Without(Settings.BackendKey("default", backendId, string.Empty))
                    .With("LoadBalancer:Pools:default:HealthCheck:PanicThreshold", "0")
                    .With($"{Affinity}:OnUnavailable", pool.Options.SessionAffinity.OnUnavailable.ToString()))).Applied);
                break;
        }

        Assert.IsNull(Balancing.Forwarding.PinnedBackend.Find(pool.AvailableBackends.AsSpan(), backendId), $"{backendId} is still available");
    }
}
