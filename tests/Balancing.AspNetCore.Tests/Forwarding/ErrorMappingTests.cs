using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Balancing.AspNetCore.Tests.Forwarding;

[TestClass]
public sealed class ErrorMappingTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    [TestMethod]
    public async Task NoAvailableBackend_Answers503ProblemWithRetryAfter()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        var settings = BalancerHost.PoolSettings(backend);
        settings["LoadBalancer:Pools:default:HealthCheck:WhenTooFewHealthy"] = "Reject";
        await using var balancer = await BalancerHost.StartAsync(settings);
        balancer.Registry.GetPool("default")!.Backends[0].SetHealth(BackendHealth.Unhealthy, "test", DateTimeOffset.UtcNow);

        using var response = await balancer.Client.GetAsync("/");

        Assert.AreEqual(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.AreEqual("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.IsNotNull(response.Headers.RetryAfter);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.AreEqual(503, problem.RootElement.GetProperty("status").GetInt32());
        Assert.AreEqual("Service Unavailable", problem.RootElement.GetProperty("title").GetString());
        Assert.IsFalse(string.IsNullOrEmpty(problem.RootElement.GetProperty("traceId").GetString()));
        Assert.IsTrue(backend.Received.IsEmpty);
    }

    [TestMethod]
    public async Task AllBackendsUnhealthy_PanicSpreadsOverThemByDefault()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(b1, b2));
        var pool = balancer.Registry.GetPool("default")!;
        foreach (var state in pool.Backends)
        {
            state.SetHealth(BackendHealth.Unhealthy, "test", DateTimeOffset.UtcNow);
        }

        using var first = await balancer.Client.GetAsync("/");
        using var second = await balancer.Client.GetAsync("/");

        Assert.IsTrue(pool.IsPanicking);
        Assert.AreEqual(HttpStatusCode.OK, first.StatusCode);
        Assert.AreEqual(HttpStatusCode.OK, second.StatusCode);
        Assert.AreEqual(1, b1.Received.Count);
        Assert.AreEqual(1, b2.Received.Count);
    }

    [TestMethod]
    public async Task ConnectionRefused_Answers502()
    {
        var closedPort = BalancerHost.ClosedPort();
        await using var balancer = await BalancerHost.StartAsync(new Dictionary<string, string?>
        {
            ["LoadBalancer:Pools:default:Backends:gone:Address"] = $"http://127.0.0.1:{closedPort}",
        });

        using var response = await balancer.Client.GetAsync("/");

        Assert.AreEqual(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.AreEqual("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var backend = balancer.Registry.GetPool("default")!.Backends[0];
        Assert.AreEqual(BackendOutcome.TransportError, backend.LastOutcome);
        Assert.AreEqual(0, backend.InFlight);
    }

    [TestMethod]
    public async Task BackendSlowerThanPoolTimeout_Answers504()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await TestBackend.StartAsync("b1", async context =>
        {
            reached.TrySetResult();
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        });
        var settings = BalancerHost.PoolSettings(backend);
        settings["LoadBalancer:Pools:default:Timeout"] = "00:00:30";
        settings["LoadBalancer:Pools:default:Retry:Enabled"] = "false";
        await using var balancer = await BalancerHost.StartAsync(settings, configureServices: s => s.AddSingleton<TimeProvider>(clock));

        var pending = balancer.Client.GetAsync("/");
        await reached.Task.WaitAsync(Patience);
        clock.Advance(TimeSpan.FromSeconds(31));
        using var response = await pending.WaitAsync(Patience);

        Assert.AreEqual(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.AreEqual(BackendOutcome.Timeout, balancer.Registry.GetPool("default")!.Backends[0].LastOutcome);
    }

    [TestMethod]
    public async Task BackendError_IsPassedThroughNotMapped()
    {
        await using var backend = await TestBackend.StartAsync("b1", async context =>
        {
            context.Response.StatusCode = 500;
            await context.Response.WriteAsync("backend says no");
        });
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend));

        using var response = await balancer.Client.GetAsync("/");

        Assert.AreEqual(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.AreEqual("backend says no", await response.Content.ReadAsStringAsync());
        Assert.AreEqual(BackendOutcome.FailureStatus, balancer.Registry.GetPool("default")!.Backends[0].LastOutcome);
    }

    [TestMethod]
    public async Task ClientDisconnects_BackendRequestIsCancelled()
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await TestBackend.StartAsync("b1", async context =>
        {
            context.RequestAborted.Register(() => cancelled.TrySetResult());
            reached.TrySetResult();
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        });
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend));
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, balancer.BaseUri.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
        await reached.Task.WaitAsync(Patience);

        socket.Close();

        await cancelled.Task.WaitAsync(Patience);
        var state = balancer.Registry.GetPool("default")!.Backends[0];
        await Eventually.TrueAsync(() => state.InFlight == 0);
        Assert.AreEqual(0, state.InFlight);
        Assert.AreEqual(0L, state.TotalFailures, "a client that leaves says nothing about the backend");
    }

    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public async Task BackendDiesMidResponse_ClientSeesAnAbortedResponseNotATruncatedOne(bool withContentLength)
    {
        var clientHasHeaders = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await TestBackend.StartAsync("b1", async context =>
        {
            if (withContentLength)
            {
                context.Response.ContentLength = 100_000;
            }

            await context.Response.Body.WriteAsync(new byte[10_000]);
            await context.Response.Body.FlushAsync();
            await clientHasHeaders.Task.WaitAsync(Patience);
            context.Abort();
        });
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend));

        using var response = await balancer.Client.GetAsync("/", HttpCompletionOption.ResponseHeadersRead);
        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        clientHasHeaders.SetResult();

        await Assert.ThrowsAsync<HttpRequestException>(async () => await response.Content.ReadAsByteArrayAsync());
        var state = balancer.Registry.GetPool("default")!.Backends[0];
        await Eventually.TrueAsync(() => state.InFlight == 0);
        Assert.AreEqual(BackendOutcome.TransportError, state.LastOutcome);
    }

    [TestMethod]
    public async Task BodyOverConfiguredLimit_Answers413()
    {
        await using var backend = await TestBackend.StartAsync("b1", recordBodies: true);
        var settings = BalancerHost.PoolSettings(backend);
        settings["LoadBalancer:Forwarding:MaxRequestBodySize"] = "10";
        await using var balancer = await BalancerHost.StartAsync(settings);

        using var response = await balancer.Client.PostAsync("/", new ByteArrayContent(new byte[100]));

        Assert.AreEqual(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [TestMethod]
    public async Task BodyWithinConfiguredLimit_IsForwarded()
    {
        await using var backend = await TestBackend.StartAsync("b1", recordBodies: true);
        var settings = BalancerHost.PoolSettings(backend);
        settings["LoadBalancer:Forwarding:MaxRequestBodySize"] = "100";
        await using var balancer = await BalancerHost.StartAsync(settings);

        using var response = await balancer.Client.PostAsync("/", new ByteArrayContent(new byte[100]));

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual(100L, backend.Received.Single().BodyLength);
    }

    [TestMethod]
    public async Task OneBackendDown_RetriesDisabled_HalfTheRequestsFail()
    {
        await using var healthy = await TestBackend.StartAsync("ok");
        var settings = BalancerHost.PoolSettings(healthy);
        settings["LoadBalancer:Pools:default:Backends:gone:Address"] = $"http://127.0.0.1:{BalancerHost.ClosedPort()}";
        settings["LoadBalancer:Pools:default:Retry:Enabled"] = "false";
        await using var balancer = await BalancerHost.StartAsync(settings);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
        {
            using var response = await balancer.Client.GetAsync("/");
            statuses.Add(response.StatusCode);
        }

        Assert.AreEqual(5, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.AreEqual(5, statuses.Count(s => s == HttpStatusCode.BadGateway));
    }

}
