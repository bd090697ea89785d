using System.Net;
using System.Text;
using Balancing.AspNetCore.Tests.Infrastructure;
using Balancing.Health;
using Balancing.Pools;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Balancing.AspNetCore.Tests.Client;

/// <summary>
/// Client-side balancing in a worker service (a generic host, no ASP.NET Core front door): an <see cref="HttpClient"/>
/// from <c>AddHttpClient("orders").AddLoadBalancing("orders")</c> calling real Kestrel backends directly.
/// </summary>
[TestClass]
public sealed class ClientSideBalancingTests
{
    [TestMethod]
    public async Task SequentialCalls_ThreeBackends_TenEachByRoundRobinAndNothingLeftInFlight()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        await using var b3 = await TestBackend.StartAsync("b3");
        using var worker = await Worker.StartAsync(Pool("orders", b1, b2, b3));
        var client = worker.CreateClient();

        var answers = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            answers.Add(await client.GetStringAsync($"http://orders/items/{i}?q=a%2Fb"));
        }

        Assert.AreEqual((10, 10, 10), (answers.Count(a => a == "b1"), answers.Count(a => a == "b2"), answers.Count(a => a == "b3")));
        Assert.AreEqual("/items/0?q=a%2Fb", b1.Received.First().RawTarget);
        var pool = worker.Registry.GetPool("orders")!;
        Assert.AreEqual(0, pool.Backends.Sum(b => b.InFlight), "each exchange ended when its body was read");
        Assert.AreEqual(30L, pool.Backends.Sum(b => b.TotalRequests));
    }

    [TestMethod]
    public async Task Calls_OneBackendStopped_AllStillSucceed()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        var b2 = await TestBackend.StartAsync("b2");
        await using var b3 = await TestBackend.StartAsync("b3");
        using var worker = await Worker.StartAsync(Pool("orders", b1, b2, b3));
        var client = worker.CreateClient();
        await client.GetStringAsync("http://orders/warm-up");

        await b2.DisposeAsync();
        var answers = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            using var response = await client.GetAsync("http://orders/work");
            Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
            answers.Add(await response.Content.ReadAsStringAsync());
        }

        Assert.AreEqual(30, answers.Count(a => a is "b1" or "b3"));
        Assert.IsGreaterThanOrEqualTo(1L, worker.Registry.GetPool("orders")!.FindBackend("b2")!.TotalFailures, "the stopped backend was tried");
    }

    [TestMethod]
    public async Task PostWithStringContent_RefusedAtConnect_IsSentToAnotherBackendWithItsBody()
    {
        await using var alive = await TestBackend.StartAsync("b-alive", recordBodies: true);
        var settings = Pool("orders", alive);
        settings["LoadBalancer:Pools:orders:Backends:a-gone:Address"] = $"http://127.0.0.1:{BalancerHost.ClosedPort()}";
        using var worker = await Worker.StartAsync(settings);
        var client = worker.CreateClient();

        // Round robin starts with the first backend in name order: a-gone.
        using var response = await client.PostAsync("http://orders/orders", new StringContent("{\"sku\":42}", Encoding.UTF8, "application/json"));

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        var received = alive.Received.Single();
        Assert.AreEqual(("POST", 10L), (received.Method, received.BodyLength));
        Assert.AreEqual("application/json; charset=utf-8", received.Headers["Content-Type"].Single());
        Assert.AreEqual(1L, worker.Registry.GetPool("orders")!.FindBackend("a-gone")!.TotalFailures);
    }

    [TestMethod]
    public async Task PostWithStreamContent_RefusedAtConnect_IsNotRetried()
    {
        await using var alive = await TestBackend.StartAsync("b-alive", recordBodies: true);
        var settings = Pool("orders", alive);
        settings["LoadBalancer:Pools:orders:Backends:a-gone:Address"] = $"http://127.0.0.1:{BalancerHost.ClosedPort()}";
        using var worker = await Worker.StartAsync(settings);
        var client = worker.CreateClient();

        var error = await Assert.ThrowsAsync<HttpRequestException>(
            () => client.PostAsync("http://orders/orders", new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("{\"sku\":42}")))));

        Assert.AreEqual(HttpRequestError.ConnectionError, error.HttpRequestError);
        StringAssert.Contains(error.Message, "Pool 'orders': backend 'a-gone'");
        Assert.IsEmpty(alive.Received, "a body that cannot be replayed is sent once");
    }

    [TestMethod]
    public async Task RequestForAnotherHost_ThrowsAndNothingIsSent()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        using var worker = await Worker.StartAsync(Pool("orders", b1));
        var client = worker.CreateClient();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetAsync($"{b1.Address}/direct"));

        StringAssert.Contains(error.Message, "pool 'orders'");
        Assert.IsEmpty(b1.Received);
    }

    [TestMethod]
    public async Task Call_HeadersAreKept_AndTheBackendSeesItsOwnHost()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        using var worker = await Worker.StartAsync(Pool("orders", b1));
        var client = worker.CreateClient();
        client.BaseAddress = new Uri("http://orders/api/");

        using var request = new HttpRequestMessage(HttpMethod.Get, "items?page=2");
        request.Headers.Add("X-Correlation-Id", "abc-123");
        request.Headers.Accept.ParseAdd("application/json");
        using var response = await client.SendAsync(request);

        var received = b1.Received.Single();
        Assert.AreEqual("/api/items?page=2", received.RawTarget);
        Assert.AreEqual("abc-123", received.Headers["X-Correlation-Id"].Single());
        Assert.AreEqual("application/json", received.Headers["Accept"].Single());
        Assert.AreEqual($"127.0.0.1:{b1.Port}", received.Headers["Host"].Single());
        Assert.AreSame(request, response.RequestMessage);
        Assert.AreEqual(new Uri("http://orders/api/items?page=2"), request.RequestUri, "the caller's message keeps its logical address");
    }

    [TestMethod]
    public async Task Call_PoolPreservesTheHostHeader_BackendSeesTheLogicalHost()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        var settings = Pool("orders", b1);
        settings["LoadBalancer:Pools:orders:PreserveHostHeader"] = "true";
        using var worker = await Worker.StartAsync(settings);

        await worker.CreateClient().GetStringAsync("http://orders/x");

        Assert.AreEqual("orders", b1.Received.Single().Headers["Host"].Single());
    }

    [TestMethod]
    public async Task ResponseHeadersRead_ExchangeIsInFlightUntilTheResponseIsDisposed()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        using var worker = await Worker.StartAsync(Pool("orders", b1));
        var client = worker.CreateClient();
        var backend = worker.Registry.GetPool("orders")!.FindBackend("b1")!;

        var response = await client.GetAsync("http://orders/stream", HttpCompletionOption.ResponseHeadersRead);
        var whileOpen = backend.InFlight;
        response.Dispose();

        Assert.AreEqual((1, 0), (whileOpen, backend.InFlight));
        Assert.AreEqual(BackendOutcome.Success, backend.LastOutcome);
    }

    [TestMethod]
    public async Task Backend503ToAGet_IsRetriedOnAnotherBackend()
    {
        await using var failing = await TestBackend.StartAsync("a-failing", context =>
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return Task.CompletedTask;
        });
        await using var healthy = await TestBackend.StartAsync("b-healthy");
        using var worker = await Worker.StartAsync(Pool("orders", failing, healthy));
        var client = worker.CreateClient();

        var answer = await client.GetStringAsync("http://orders/x");

        Assert.AreEqual("b-healthy", answer);
        Assert.HasCount(1, failing.Received);
        Assert.AreEqual(0, worker.Registry.GetPool("orders")!.Backends.Sum(b => b.InFlight));
    }

    [TestMethod]
    public async Task HandlerOfTheApp_SendingTheSameMessageTwice_ReachesThePoolBothTimes()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        using var worker = await Worker.StartAsync(Pool("orders", b1, b2), services =>
            services.AddHttpClient("orders").AddHttpMessageHandler(() => new SendTwiceHandler()));
        var client = worker.CreateClient();

        var answer = await client.GetStringAsync("http://orders/twice");

        Assert.AreEqual("b2", answer);
        Assert.AreEqual((1, 1), (b1.Received.Count, b2.Received.Count));
    }

    [TestMethod]
    public async Task ActiveHealthChecks_RunInTheWorker_AndAnUnhealthyBackendGetsNoCalls()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2", context =>
        {
            context.Response.StatusCode = context.Request.Path == "/health" ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
            return context.Response.WriteAsync("b2");
        });
        await using var b3 = await TestBackend.StartAsync("b3");
        var settings = Pool("orders", b1, b2, b3);
        settings["LoadBalancer:Pools:orders:HealthCheck:Active:Enabled"] = "true";
        settings["LoadBalancer:Pools:orders:HealthCheck:Active:Jitter"] = "0";
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var worker = await Worker.StartAsync(settings, services => services.AddSingleton<TimeProvider>(clock));
        var checker = worker.Services.GetRequiredService<ActiveHealthChecker>();

        // Round 1 runs as the host starts; each later one an interval on. Three failures in a row: unhealthy.
        await checker.WaitForRoundAsync("orders", 1).WaitAsync(Eventually.Patience);
        for (var round = 2; round <= 3; round++)
        {
            clock.Advance(TimeSpan.FromSeconds(2));
            await checker.WaitForRoundAsync("orders", round).WaitAsync(Eventually.Patience);
        }

        var client = worker.CreateClient();
        var answers = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            answers.Add(await client.GetStringAsync("http://orders/work"));
        }

        Assert.AreEqual(BackendHealth.Unhealthy, worker.Registry.GetPool("orders")!.FindBackend("b2")!.Health);
        Assert.AreEqual((10, 0, 10), (answers.Count(a => a == "b1"), answers.Count(a => a == "b2"), answers.Count(a => a == "b3")));
    }

    [TestMethod]
    public void CreateClient_WithoutTheEngineRegistered_ThrowsNamingAddLoadBalancerCore()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddHttpClient("orders").AddLoadBalancing("orders");
        using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();

        var error = Assert.ThrowsExactly<InvalidOperationException>(() => factory.CreateClient("orders"));

        StringAssert.Contains(error.Message, "services.AddLoadBalancerCore()");
    }

    [TestMethod]
    public async Task CreateClient_PoolNotConfigured_ThrowsNamingThePoolKey()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        using var worker = await Worker.StartAsync(Pool("inventory", b1));

        var error = Assert.ThrowsExactly<Microsoft.Extensions.Options.OptionsValidationException>(() => worker.CreateClient());

        StringAssert.Contains(error.Message, "LoadBalancer:Pools:orders");
    }

    private static Dictionary<string, string?> Pool(string pool, params TestBackend[] backends) => BalancerHost.PoolSettings(pool, backends);

    /// <summary>A worker service as an app would write it: generic host, <c>AddLoadBalancerCore()</c>, a balanced client.</summary>
    private sealed class Worker : IDisposable
    {
        private readonly IHost _host;

        private Worker(IHost host) => _host = host;

        public IServiceProvider Services => _host.Services;

        public ServerPoolRegistry Registry => _host.Services.GetRequiredService<ServerPoolRegistry>();

        public static async Task<Worker> StartAsync(Dictionary<string, string?> settings, Action<IServiceCollection>? configure = null)
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Services.AddLoadBalancerCore();
            builder.Services.AddHttpClient("orders").AddLoadBalancing("orders");
            configure?.Invoke(builder.Services);
            var host = builder.Build();
            await host.StartAsync();
            return new Worker(host);
        }

        public HttpClient CreateClient() => _host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("orders");

        public void Dispose()
        {
            _host.StopAsync().GetAwaiter().GetResult();
            _host.Dispose();
        }
    }

    /// <summary>Sends each request twice, as a resilience handler's retry does, and returns the second answer.</summary>
    private sealed class SendTwiceHandler : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            using (await base.SendAsync(request, cancellationToken))
            {
            }

            return await base.SendAsync(request, cancellationToken);
        }
    }
}
