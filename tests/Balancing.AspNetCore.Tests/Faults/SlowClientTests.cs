using System.Net;
using System.Net.Sockets;
using System.Text;
using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Balancing.AspNetCore.Tests.Faults;

/// <summary>
/// Slow clients hold connections, not the balancer: with Kestrel's limits set (as the sample's appsettings.json does),
/// a client trickling its headers or its body is cut, and others are served meanwhile.
/// </summary>
[TestClass]
public sealed class SlowClientTests
{
    private static readonly TimeSpan Patience = Eventually.Patience;

    [TestMethod]
    public async Task SlowlorisHeaders_AreCutWhileANormalClientIsServed()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        await using var balancer = await StartAsync(backend);

        var slow = new List<(Socket Socket, NetworkStream Stream)>();
        try
        {
            for (var i = 0; i < 20; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(IPAddress.Loopback, balancer.BaseUri.Port);
                var stream = new NetworkStream(socket, ownsSocket: true);
                await stream.WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: lb.test\r\nX-Slow: "));
                slow.Add((socket, stream));
            }

            using var response = await balancer.Client.GetAsync("/").WaitAsync(Patience);
            Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
            Assert.AreEqual("b1", await response.Content.ReadAsStringAsync());

            // Kestrel's RequestHeadersTimeout answers each unfinished head with 408 and closes the connection.
            foreach (var (_, stream) in slow)
            {
                var answer = await BalancerHost.ReadResponseAsync(stream, Patience);
                StringAssert.StartsWith(answer, "HTTP/1.1 408 ", answer);
            }

            Assert.IsEmpty(backend.Received.Where(r => r.Headers.ContainsKey("X-Slow")));
        }
        finally
        {
            foreach (var (_, stream) in slow)
            {
                await stream.DisposeAsync();
            }
        }
    }

    [TestMethod]
    public async Task SlowRequestBody_IsCutWhileANormalClientIsServed()
    {
        await using var backend = await TestBackend.StartAsync("b1", recordBodies: true);
        await using var balancer = await StartAsync(backend);

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, balancer.BaseUri.Port);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await stream.WriteAsync(Encoding.ASCII.GetBytes("POST /upload HTTP/1.1\r\nHost: lb.test\r\nContent-Length: 100000\r\n\r\n0123456789"));

        using var response = await balancer.Client.GetAsync("/").WaitAsync(Patience);
        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);

        // Far below MinRequestBodyDataRate once the grace period is over: Kestrel ends the upload and the connection.
        var answer = await BalancerHost.ReadResponseAsync(stream, Patience);
        Assert.IsFalse(answer.StartsWith("HTTP/1.1 200 ", StringComparison.Ordinal), answer);
        Assert.IsFalse(backend.Received.Any(r => r.Path == "/upload" && r.BodyLength == 100000), "the trickled body never reached a backend whole");
        var state = balancer.Registry.GetPool("default")!.Backends[0];
        await Eventually.TrueAsync(() => state.InFlight == 0);
        Assert.AreEqual(0L, state.TotalFailures, "the client was slow, not the backend");
    }

    private static Task<BalancerHost> StartAsync(TestBackend backend)
        => BalancerHost.StartAsync(BalancerHost.PoolSettings(backend), configureServices: services => services.Configure<KestrelServerOptions>(o =>
        {
            o.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(1);
            o.Limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 1000, gracePeriod: TimeSpan.FromSeconds(2));
        }));
}
