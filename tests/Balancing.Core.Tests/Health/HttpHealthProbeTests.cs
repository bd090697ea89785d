using System.Net;
using Balancing.Core.Tests.Infrastructure;
using Balancing.Health;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;

namespace Balancing.Core.Tests.Health;

[TestClass]
public sealed class HttpHealthProbeTests
{
    [TestMethod]
    public async Task ProbeAsync_BackendWithPathPrefix_GetsPathAfterTheBackendAddress()
    {
        HttpRequestMessage? seen = null;
        var handler = new FakeHttpHandler((request, _) =>
        {
            seen = request;
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
        });
        using var balancer = TestBalancer.CreateWithHandler(Settings.DefaultPool(), handler);
        using var probe = CreateProbe(balancer, pool => pool.HealthCheck.Active.Path = "/status?deep=1");

        await probe.ProbeAsync(new BackendState("b1", new Uri("http://b1.test:8080/api/")), CancellationToken.None);

        Assert.AreEqual((HttpMethod.Get, "http://b1.test:8080/api/status?deep=1"), (seen!.Method, seen.RequestUri!.OriginalString));
    }

    [TestMethod]
    public async Task ProbeAsync_PoolHttpVersion_IsUsedForTheProbe()
    {
        HttpRequestMessage? seen = null;
        var handler = new FakeHttpHandler((request, _) =>
        {
            seen = request;
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
        });
        using var balancer = TestBalancer.CreateWithHandler(Settings.DefaultPool(), handler);
        using var probe = CreateProbe(balancer, pool =>
        {
            pool.HttpVersion = "2";
            pool.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        });

        await probe.ProbeAsync(Backend(), CancellationToken.None);

        Assert.AreEqual((HttpVersion.Version20, HttpVersionPolicy.RequestVersionExact), (seen!.Version, seen.VersionPolicy));
    }

    [TestMethod]
    [DataRow(HttpStatusCode.OK)]
    [DataRow(HttpStatusCode.NoContent)]
    public async Task ProbeAsync_2xx_Passes(HttpStatusCode status)
    {
        using var balancer = TestBalancer.CreateWithHandler(Settings.DefaultPool(), Answering(status));
        using var probe = CreateProbe(balancer);

        var result = await probe.ProbeAsync(Backend(), CancellationToken.None);

        Assert.AreEqual((true, $"HTTP {(int)status}"), (result.IsHealthy, result.Description));
    }

    [TestMethod]
    public async Task ProbeAsync_503_FailsNamingStatusAndExpectedCodes()
    {
        using var balancer = TestBalancer.CreateWithHandler(Settings.DefaultPool(), Answering(HttpStatusCode.ServiceUnavailable));
        using var probe = CreateProbe(balancer);

        var result = await probe.ProbeAsync(Backend(), CancellationToken.None);

        Assert.AreEqual((false, "HTTP 503, expected 200-299"), (result.IsHealthy, result.Description));
    }

    [TestMethod]
    public async Task ProbeAsync_ExpectedCodesIncludeNotFound_404Passes()
    {
        using var balancer = TestBalancer.CreateWithHandler(Settings.DefaultPool(), Answering(HttpStatusCode.NotFound));
        using var probe = CreateProbe(balancer, pool => pool.HealthCheck.Active.ExpectedStatusCodes = "200-299,404");

        var result = await probe.ProbeAsync(Backend(), CancellationToken.None);

        Assert.IsTrue(result.IsHealthy);
    }

    [TestMethod]
    public async Task ProbeAsync_Redirect_FailsByDefault()
    {
        using var balancer = TestBalancer.CreateWithHandler(Settings.DefaultPool(), Answering(HttpStatusCode.Found));
        using var probe = CreateProbe(balancer);

        var result = await probe.ProbeAsync(Backend(), CancellationToken.None);

        Assert.IsFalse(result.IsHealthy);
    }

    [TestMethod]
    public async Task ProbeAsync_ConnectionRefused_FailsWithTheException()
    {
        var refused = new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (b1.test:8080)");
        using var balancer = TestBalancer.CreateWithHandler(Settings.DefaultPool(), FakeHttpHandler.Throwing(refused));
        using var probe = CreateProbe(balancer);

        var result = await probe.ProbeAsync(Backend(), CancellationToken.None);

        Assert.AreEqual((false, "Connection refused (b1.test:8080)"), (result.IsHealthy, result.Description));
        Assert.AreSame(refused, result.Exception);
    }

    [TestMethod]
    public async Task ProbeAsync_TokenCancelled_FailsAsTimedOut()
    {
        using var balancer = TestBalancer.CreateWithHandler(Settings.DefaultPool(), FakeHttpHandler.WaitingForCancellation());
        using var probe = CreateProbe(balancer);
        using var timeout = new CancellationTokenSource();

        var pending = probe.ProbeAsync(Backend(), timeout.Token);
        await timeout.CancelAsync();
        var result = await pending;

        Assert.AreEqual((false, "Timed out"), (result.IsHealthy, result.Description));
    }

    [TestMethod]
    public async Task ProbeAsync_ThroughTheEngine_IsNotCountedAsTraffic()
    {
        var handler = Answering(HttpStatusCode.OK);
        using var balancer = TestBalancer.CreateWithHandler(Settings.DefaultPool(), handler);
        using var probe = CreateProbe(balancer);
        var backend = balancer.Pool().Backends[0];

        await probe.ProbeAsync(backend, CancellationToken.None);

        Assert.AreEqual((1, 0L, 0), (handler.Calls, backend.TotalRequests, backend.InFlight));
    }

    private static BackendState Backend() => new("b1", new Uri("http://b1.test:8080"));

    private static FakeHttpHandler Answering(HttpStatusCode status) => new((_, _) => Task.FromResult(new HttpResponseMessage(status)));

    private static HttpHealthProbe CreateProbe(TestBalancer balancer, Action<PoolOptions>? configure = null)
    {
        var pool = new PoolOptions { HttpVersion = "1.1" };
        configure?.Invoke(pool);
        _ = balancer.Registry;
        return new HttpHealthProbe(balancer.Services.GetRequiredService<IHttpMessageHandlerFactory>(), pool);
    }
}
