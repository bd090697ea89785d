using System.Net;
using System.Net.Sockets;
using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Balancing.AspNetCore.Tests.Faults;

/// <summary>
/// Stopping the balancer host (SIGTERM, <c>StopAsync</c>): it stops accepting at once, lets requests in flight finish
/// within the host's <see cref="HostOptions.ShutdownTimeout"/>, and aborts, never truncates, what is still running then.
/// </summary>
[TestClass]
public sealed class GracefulShutdownTests
{
    private static readonly TimeSpan Patience = Eventually.Patience;
    private const string FirstHalf = "first half;";
    private const string SecondHalf = "second half.";

    [TestMethod]
    public async Task Stop_SlowRequestInFlight_CompletesWithItsFullBody()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await TestBackend.StartAsync("slow", context => HalfNowHalfLaterAsync(context, release.Task));
        await using var balancer = await StartAsync(backend, TimeSpan.FromSeconds(10));

        using var response = await balancer.Client.GetAsync("/slow", HttpCompletionOption.ResponseHeadersRead).WaitAsync(Patience);
        var stopping = balancer.StopAsync();
        await WaitForAsync(balancer.Stopping);
        release.SetResult();
        var body = await response.Content.ReadAsStringAsync().WaitAsync(Patience);
        await stopping.WaitAsync(Patience);

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual(FirstHalf + SecondHalf, body);
    }

    [TestMethod]
    public async Task Stop_WhileARequestDrains_RefusesNewConnections()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await TestBackend.StartAsync("slow", context => HalfNowHalfLaterAsync(context, release.Task));
        await using var balancer = await StartAsync(backend, TimeSpan.FromSeconds(10));
        var port = balancer.BaseUri.Port;

        using var response = await balancer.Client.GetAsync("/slow", HttpCompletionOption.ResponseHeadersRead).WaitAsync(Patience);
        var stopping = balancer.StopAsync();

        // Kestrel closes its listener as soon as its own stop begins, while the slow request still holds the host.
        await Eventually.TrueAsync(() => IsRefusedAsync(port), Patience);
        Assert.IsFalse(stopping.IsCompleted, "the host is still draining the slow request");
        release.SetResult();
        Assert.AreEqual(FirstHalf + SecondHalf, await response.Content.ReadAsStringAsync().WaitAsync(Patience));
        await stopping.WaitAsync(Patience);
    }

    [TestMethod]
    public async Task Stop_RequestStillRunningWhenDrainTimeEnds_IsAbortedNotCompleted()
    {
        var never = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await TestBackend.StartAsync("stuck", context => HalfNowHalfLaterAsync(context, never.Task));
        await using var balancer = await StartAsync(backend, TimeSpan.FromMilliseconds(300));

        using var response = await balancer.Client.GetAsync("/stuck", HttpCompletionOption.ResponseHeadersRead).WaitAsync(Patience);
        var stopping = balancer.StopAsync();
        var read = response.Content.ReadAsStringAsync();

        await stopping.WaitAsync(Patience);
        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => read.WaitAsync(Patience));
        Assert.IsNotNull(failure);
        var state = balancer.Registry.GetPool("default")!.Backends[0];
        await Eventually.TrueAsync(() => state.InFlight == 0);
        Assert.AreEqual(0L, state.TotalFailures, "the balancer cut the request, not the backend");
    }

    [TestMethod]
    public async Task Stop_WhileAProbeHangs_EndsTheProbeLoopWithoutWaitingForIt()
    {
        var probed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var probeCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var never = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await TestBackend.StartAsync("b1", async context =>
        {
            context.RequestAborted.Register(() => probeCancelled.TrySetResult());
            probed.TrySetResult();
            await never.Task.WaitAsync(context.RequestAborted);
        });
        var settings = BalancerHost.PoolSettings(backend);
        settings["LoadBalancer:Pools:default:HealthCheck:Active:Enabled"] = "true";
        settings["LoadBalancer:Pools:default:HealthCheck:Active:Interval"] = "00:00:02";
        settings["LoadBalancer:Pools:default:HealthCheck:Active:Timeout"] = "00:00:01";
        settings["LoadBalancer:Pools:default:HealthCheck:Active:Jitter"] = "0";

        // The fake clock never moves: only the stop itself can end the hanging probe.
        await using var balancer = await BalancerHost.StartWithClockAsync(settings, new FakeTimeProvider(DateTimeOffset.UtcNow));
        await probed.Task.WaitAsync(Patience);
        await balancer.StopAsync().WaitAsync(Patience);

        await probeCancelled.Task.WaitAsync(Patience);
        Assert.AreEqual("/health", Assert.ContainsSingle(backend.Received).Path);
    }

    private static Task<BalancerHost> StartAsync(TestBackend backend, TimeSpan drain)
        => BalancerHost.StartAsync(
            BalancerHost.PoolSettings(backend),
            configureServices: services => services.Configure<HostOptions>(o => o.ShutdownTimeout = drain));

    /// <summary>Declares the whole length, sends the first half, and the second only when <paramref name="release"/> completes.</summary>
    private static async Task HalfNowHalfLaterAsync(HttpContext context, Task release)
    {
        context.Response.ContentLength = FirstHalf.Length + SecondHalf.Length;
        await context.Response.WriteAsync(FirstHalf, context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
        await release.WaitAsync(context.RequestAborted);
        await context.Response.WriteAsync(SecondHalf, context.RequestAborted);
    }

    private static Task WaitForAsync(CancellationToken token)
    {
        var signalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.Register(() => signalled.TrySetResult());
        return signalled.Task.WaitAsync(Patience, CancellationToken.None);
    }

    private static async Task<bool> IsRefusedAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
            return false;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return true;
        }
    }
}
