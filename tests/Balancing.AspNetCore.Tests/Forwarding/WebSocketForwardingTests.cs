using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Balancing.AspNetCore.Tests.Forwarding;

[TestClass]
public sealed class WebSocketForwardingTests
{
    private static readonly TimeSpan Patience = Eventually.Patience;

    [TestMethod]
    public async Task Upgrade_Http11_RelaysMessagesBothWays()
    {
        await using var backend = await WebSocketBackend.StartAsync();
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend.Http));

        using var socket = await ConnectAsync(balancer, "/chat?room=1");

        Assert.AreEqual("hello from backend", await ReceiveTextAsync(socket));
        await SendTextAsync(socket, "ping 1");
        Assert.AreEqual("echo: ping 1", await ReceiveTextAsync(socket));
        await SendTextAsync(socket, new string('x', 100_000));
        Assert.AreEqual("echo: " + new string('x', 100_000), await ReceiveTextAsync(socket));

        var seen = backend.Http.Received.Single();
        Assert.AreEqual("/chat?room=1", seen.RawTarget);
        Assert.AreEqual("websocket", seen.Headers["Upgrade"].Single(), ignoreCase: true);
    }

    [TestMethod]
    public async Task Upgrade_BackendCloses_ClientSeesTheClose()
    {
        await using var backend = await WebSocketBackend.StartAsync();
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend.Http));
        using var socket = await ConnectAsync(balancer, "/chat");
        await ReceiveTextAsync(socket);

        await SendTextAsync(socket, "close");

        using var timeout = new CancellationTokenSource(Patience);
        var result = await socket.ReceiveAsync(new byte[1024], timeout.Token);
        Assert.AreEqual(WebSocketMessageType.Close, result.MessageType);
        Assert.AreEqual(WebSocketCloseStatus.NormalClosure, result.CloseStatus);
        Assert.AreEqual("bye", result.CloseStatusDescription);
    }

    [TestMethod]
    public async Task Upgrade_ClientGoesAway_BackendSeesItsConnectionEnd()
    {
        await using var backend = await WebSocketBackend.StartAsync();
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend.Http));
        var socket = await ConnectAsync(balancer, "/chat");
        await ReceiveTextAsync(socket);

        socket.Abort();
        socket.Dispose();

        Assert.AreSame(backend.Ended, await Task.WhenAny(backend.Ended, Task.Delay(Patience)));
    }

    [TestMethod]
    public async Task Upgrade_WhileOpen_CountsAsInFlightOnItsBackend()
    {
        await using var backend = await WebSocketBackend.StartAsync();
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend.Http));
        var state = balancer.Registry.GetPool("default")!.Backends.Single();

        using (var socket = await ConnectAsync(balancer, "/chat"))
        {
            await ReceiveTextAsync(socket);
            Assert.AreEqual(1, state.InFlight);
            using var timeout = new CancellationTokenSource(Patience);
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
        }

        await Eventually.TrueAsync(() => state.InFlight == 0);
        Assert.AreEqual(1L, state.TotalRequests);
    }

    [TestMethod]
    public async Task Upgrade_WhileOpen_LeastConnectionsSendsOtherRequestsElsewhere()
    {
        await using var first = await WebSocketBackend.StartAsync();
        await using var second = await WebSocketBackend.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["LoadBalancer:Pools:default:Backends:first:Address"] = first.Http.Address,
            ["LoadBalancer:Pools:default:Backends:second:Address"] = second.Http.Address,
            ["LoadBalancer:Pools:default:Strategy"] = LoadStrategyNames.LeastConnections,
        };
        await using var balancer = await BalancerHost.StartAsync(settings);
        using var socket = await ConnectAsync(balancer, "/chat");
        await ReceiveTextAsync(socket);
        var (holding, other) = first.Http.Received.IsEmpty ? (second, first) : (first, second);

        for (var i = 0; i < 5; i++)
        {
            using var response = await balancer.Client.GetAsync("/plain");
        }

        Assert.HasCount(1, holding.Http.Received);
        Assert.HasCount(5, other.Http.Received);
    }

    [TestMethod]
    public async Task Upgrade_IdleForTheTimeout_ClosesBothSides()
    {
        await using var backend = await WebSocketBackend.StartAsync();
        var clock = new FakeTimeProvider();
        var settings = BalancerHost.PoolSettings(backend.Http);
        settings["LoadBalancer:Pools:default:WebSockets:IdleTimeout"] = "00:00:30";
        await using var balancer = await BalancerHost.StartWithClockAsync(settings, clock);
        using var socket = await ConnectAsync(balancer, "/chat");
        await ReceiveTextAsync(socket);
        await SendTextAsync(socket, "still here");
        Assert.AreEqual("echo: still here", await ReceiveTextAsync(socket));

        clock.Advance(TimeSpan.FromSeconds(29));
        await SendTextAsync(socket, "just in time");
        Assert.AreEqual("echo: just in time", await ReceiveTextAsync(socket));
        clock.Advance(TimeSpan.FromSeconds(30));

        using var timeout = new CancellationTokenSource(Patience);
        await Assert.ThrowsAsync<WebSocketException>(async () => await socket.ReceiveAsync(new byte[1024], timeout.Token));
        Assert.AreSame(backend.Ended, await Task.WhenAny(backend.Ended, Task.Delay(Patience)));
        await Eventually.TrueAsync(() => balancer.Logs.GetSnapshot().Any(r => r.Id.Name == "WebSocketIdle"));
    }

    [TestMethod]
    public async Task Upgrade_BackendDeclines_ItsAnswerIsRelayed()
    {
        await using var backend = await TestBackend.StartAsync("plain", context =>
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return context.Response.WriteAsync("no sockets here");
        });
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend));

        var response = await balancer.SendRawAsync(UpgradeRequest(balancer));

        StringAssert.StartsWith(response, "HTTP/1.1 403");
        StringAssert.Contains(response, "no sockets here");
        Assert.AreEqual(0, balancer.Registry.GetPool("default")!.Backends.Single().InFlight);
    }

    [TestMethod]
    public async Task Upgrade_FirstBackendRefusesConnections_IsSentToAnother()
    {
        await using var backend = await WebSocketBackend.StartAsync();
        var settings = BalancerHost.PoolSettings(backend.Http);
        settings["LoadBalancer:Pools:default:Backends:down:Address"] = $"http://127.0.0.1:{BalancerHost.ClosedPort()}";
        await using var balancer = await BalancerHost.StartAsync(settings);

        // Round robin sends one of the two connections to the closed port; nothing was exchanged, so it fails over.
        using var first = await ConnectAsync(balancer, "/chat");
        using var second = await ConnectAsync(balancer, "/chat");

        Assert.AreEqual("hello from backend", await ReceiveTextAsync(first));
        Assert.AreEqual("hello from backend", await ReceiveTextAsync(second));
    }

    [TestMethod]
    public async Task Upgrade_WebSocketsDisabled_IsForwardedAsAPlainRequest()
    {
        await using var backend = await WebSocketBackend.StartAsync();
        var settings = BalancerHost.PoolSettings(backend.Http);
        settings["LoadBalancer:Pools:default:WebSockets:Enabled"] = "false";
        await using var balancer = await BalancerHost.StartAsync(settings);

        var response = await balancer.SendRawAsync(UpgradeRequest(balancer));

        StringAssert.StartsWith(response, "HTTP/1.1 400");
        Assert.IsFalse(backend.Http.Received.Single().Headers.ContainsKey("Upgrade"));
    }

    [TestMethod]
    public async Task ExtendedConnect_Http2Client_IsTunnelledToAnHttp11Backend()
    {
        await using var backend = await WebSocketBackend.StartAsync();
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend.Http), protocols: HttpProtocols.Http2);
        using var handler = new SocketsHttpHandler();
        using var invoker = new HttpMessageInvoker(handler);
        using var socket = new ClientWebSocket();
        socket.Options.HttpVersion = HttpVersion.Version20;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        socket.Options.CollectHttpResponseDetails = true;
        using var timeout = new CancellationTokenSource(Patience);

        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{balancer.BaseUri.Port}/chat"), invoker, timeout.Token);

        Assert.AreEqual(HttpStatusCode.OK, socket.HttpStatusCode);
        Assert.AreEqual("hello from backend", await ReceiveTextAsync(socket));
        await SendTextAsync(socket, "over h2");
        Assert.AreEqual("echo: over h2", await ReceiveTextAsync(socket));
        Assert.AreEqual("GET", backend.Http.Received.Single().Method);
    }

    [TestMethod]
    public async Task Start_IdleTimeoutNotPositive_FailsNamingTheKey()
    {
        var settings = new Dictionary<string, string?>
        {
            ["LoadBalancer:Pools:default:Backends:b1:Address"] = "http://127.0.0.1:9001",
            ["LoadBalancer:Pools:default:WebSockets:IdleTimeout"] = "00:00:00",
        };

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => BalancerHost.StartAsync(settings));

        StringAssert.Contains(error.Message, "LoadBalancer:Pools:default:WebSockets:IdleTimeout");
    }

    private static string UpgradeRequest(BalancerHost balancer)
        => $"GET /chat HTTP/1.1\r\nHost: 127.0.0.1:{balancer.BaseUri.Port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

    private static async Task<ClientWebSocket> ConnectAsync(BalancerHost balancer, string pathAndQuery)
    {
        var socket = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(Patience);
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{balancer.BaseUri.Port}{pathAndQuery}"), timeout.Token);
        return socket;
    }

    private static async Task SendTextAsync(WebSocket socket, string text)
    {
        using var timeout = new CancellationTokenSource(Patience);
        await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
    }

    private static async Task<string> ReceiveTextAsync(WebSocket socket)
    {
        using var timeout = new CancellationTokenSource(Patience);
        using var message = new MemoryStream();
        var buffer = new byte[8192];
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, timeout.Token);
            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);

        Assert.AreEqual(WebSocketMessageType.Text, result.MessageType);
        return Encoding.UTF8.GetString(message.ToArray());
    }

    /// <summary>
    /// A WebSocket backend over HTTP/1.1: greets, echoes each text message, closes when told "close"; <see cref="Ended"/>
    /// completes when its connection ends for any reason.
    /// </summary>
    private sealed class WebSocketBackend : IAsyncDisposable
    {
        private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private WebSocketBackend()
        {
        }

        public TestBackend Http { get; private set; } = null!;

        public Task Ended => _ended.Task;

        public static async Task<WebSocketBackend> StartAsync()
        {
            var backend = new WebSocketBackend();
            backend.Http = await TestBackend.StartAsync("ws", backend.HandleAsync, protocols: HttpProtocols.Http1);
            return backend;
        }

        private async Task HandleAsync(HttpContext context)
        {
            // The server side of the RFC 6455 handshake, by hand: TestBackend runs no WebSocket middleware.
            var upgrade = context.Features.Get<IHttpUpgradeFeature>();
            if (upgrade is not { IsUpgradableRequest: true } || !string.Equals(context.Request.Headers.Upgrade, "websocket", StringComparison.OrdinalIgnoreCase))
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }

            var key = context.Request.Headers.SecWebSocketKey.ToString();
#pragma warning disable CA5350 // RFC 6455 §4.2.2 prescribes SHA-1 for the accept key; it protects nothing.
            context.Response.Headers.Upgrade = "websocket";
            context.Response.Headers.SecWebSocketAccept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
#pragma warning restore CA5350
            try
            {
                var stream = await upgrade.UpgradeAsync();
                using var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
                await socket.SendAsync(Encoding.UTF8.GetBytes("hello from backend"), WebSocketMessageType.Text, true, context.RequestAborted);
                var buffer = new byte[256 * 1024];
                while (true)
                {
                    var count = 0;
                    ValueWebSocketReceiveResult result;
                    do
                    {
                        result = await socket.ReceiveAsync(buffer.AsMemory(count), context.RequestAborted);
                        count += result.Count;
                    }
                    while (!result.EndOfMessage);

                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", context.RequestAborted);
                        return;
                    }

                    var text = Encoding.UTF8.GetString(buffer, 0, count);
                    if (text == "close")
                    {
                        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", context.RequestAborted);
                        return;
                    }

                    await socket.SendAsync(Encoding.UTF8.GetBytes("echo: " + text), WebSocketMessageType.Text, true, context.RequestAborted);
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
            {
                // The connection ended under the socket: what the tests wait for.
            }
            finally
            {
                _ended.TrySetResult();
            }
        }

        public ValueTask DisposeAsync() => Http.DisposeAsync();
    }
}
