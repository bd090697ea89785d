using System.Text;
using Balancing.AspNetCore.Tests.Infrastructure;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Balancing.AspNetCore.Tests.Forwarding;

/// <summary>gRPC calls from a real gRPC client, through the balancer over h2c, to a real Grpc.AspNetCore backend.</summary>
[TestClass]
public sealed class GrpcForwardingTests
{
    [TestMethod]
    public async Task Unary_ThroughH2c_ReturnsTheReplyHeadersAndTrailers()
    {
        await using var backend = await GrpcBackend.StartAsync();
        await using var balancer = await StartBalancerAsync(backend);
        using var channel = CreateChannel(balancer);
        var invoker = channel.CreateCallInvoker();

        using var call = invoker.AsyncUnaryCall(EchoServiceBase.UnaryMethod, null, new CallOptions(new Metadata { { "x-caller", "test" } }, Deadline()), "hello");

        Assert.AreEqual("unary: hello", await call.ResponseAsync);
        Assert.AreEqual("present", (await call.ResponseHeadersAsync).GetValue("x-header"));
        Assert.AreEqual(StatusCode.OK, call.GetStatus().StatusCode);
        Assert.AreEqual("ok-trailer", call.GetTrailers().GetValue("x-trailer"));
        Assert.AreEqual("test", backend.Service.LastCaller);
    }

    [TestMethod]
    public async Task Unary_BackendFails_ClientGetsItsStatusDetailAndTrailers()
    {
        await using var backend = await GrpcBackend.StartAsync();
        await using var balancer = await StartBalancerAsync(backend);
        using var channel = CreateChannel(balancer);

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await channel.CreateCallInvoker().AsyncUnaryCall(EchoServiceBase.UnaryMethod, null, new CallOptions(deadline: Deadline()), "fail"));

        Assert.AreEqual(StatusCode.NotFound, error.StatusCode);
        Assert.AreEqual("no such thing", error.Status.Detail);
        Assert.AreEqual("why-not", error.Trailers.GetValue("x-reason"));
    }

    [TestMethod]
    public async Task ServerStreaming_EachMessageArrivesBeforeTheNextIsWritten()
    {
        await using var backend = await GrpcBackend.StartAsync();
        await using var balancer = await StartBalancerAsync(backend);
        using var channel = CreateChannel(balancer);

        using var call = channel.CreateCallInvoker().AsyncServerStreamingCall(EchoServiceBase.StreamMethod, null, new CallOptions(deadline: Deadline()), "3");
        var received = new List<string>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            received.Add(call.ResponseStream.Current);

            // The backend writes the next message only after this one was received: nothing is held back on the way.
            backend.Service.Acknowledge();
        }

        CollectionAssert.AreEqual(new[] { "item 0", "item 1", "item 2" }, received);
        Assert.AreEqual(StatusCode.OK, call.GetStatus().StatusCode);
        Assert.AreEqual("3", call.GetTrailers().GetValue("x-count"));
    }

    [TestMethod]
    public async Task Bidirectional_RepliesArriveWhileTheClientIsStillSending()
    {
        await using var backend = await GrpcBackend.StartAsync();
        await using var balancer = await StartBalancerAsync(backend);
        using var channel = CreateChannel(balancer);

        using var call = channel.CreateCallInvoker().AsyncDuplexStreamingCall(EchoServiceBase.ChatMethod, null, new CallOptions(deadline: Deadline()));
        for (var i = 0; i < 3; i++)
        {
            await call.RequestStream.WriteAsync($"m{i}");
            Assert.IsTrue(await call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.AreEqual($"chat: m{i}", call.ResponseStream.Current);
        }

        await call.RequestStream.CompleteAsync();
        Assert.IsFalse(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.AreEqual(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [TestMethod]
    public async Task Unary_DeadlineExpires_ClientGetsDeadlineExceededAndBackendCallIsAborted()
    {
        await using var backend = await GrpcBackend.StartAsync();
        await using var balancer = await StartBalancerAsync(backend);
        using var channel = CreateChannel(balancer);

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await channel.CreateCallInvoker().AsyncUnaryCall(EchoServiceBase.SlowMethod, null, new CallOptions(deadline: DateTime.UtcNow.AddMilliseconds(300)), "wait"));

        Assert.AreEqual(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.AreSame(backend.Service.SlowCallAborted, await Task.WhenAny(backend.Service.SlowCallAborted, Task.Delay(Eventually.Patience)));
        var state = balancer.Registry.GetPool("default")!.Backends.Single();
        await Eventually.TrueAsync(() => state.InFlight == 0);
    }

    private static DateTime Deadline() => DateTime.UtcNow.Add(Eventually.Patience);

    private static Task<BalancerHost> StartBalancerAsync(GrpcBackend backend)
    {
        var settings = new Dictionary<string, string?>
        {
            ["LoadBalancer:Pools:default:Backends:grpc:Address"] = backend.Address,
            ["LoadBalancer:Pools:default:HttpVersion"] = "2",
            ["LoadBalancer:Pools:default:VersionPolicy"] = "RequestVersionExact",
        };
        return BalancerHost.StartAsync(settings, protocols: HttpProtocols.Http2);
    }

    private static GrpcChannel CreateChannel(BalancerHost balancer)
        => GrpcChannel.ForAddress(balancer.BaseUri, new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler() });

    /// <summary>A Grpc.AspNetCore server on 127.0.0.1 speaking h2c only, hosting <see cref="EchoService"/>.</summary>
    private sealed class GrpcBackend : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private GrpcBackend(WebApplication app, EchoService service)
        {
            _app = app;
            Service = service;
        }

        public EchoService Service { get; }

        public string Address => _app.Urls.First();

        public static async Task<GrpcBackend> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
            var service = new EchoService();
            builder.Services.AddGrpc();
            builder.Services.AddSingleton(service);
            var app = builder.Build();
            app.MapGrpcService<EchoService>();
            await app.StartAsync();
            return new GrpcBackend(app, service);
        }

        public ValueTask DisposeAsync() => _app.DisposeAsync();
    }
}

/// <summary>
/// The shape of a small gRPC service with hand-written string marshallers: no .proto, no generated code. Grpc.AspNetCore
/// binds the overrides of these virtual methods, as it does for a generated base class.
/// </summary>
[BindServiceMethod(typeof(EchoServiceBase), nameof(BindService))]
#pragma warning disable CA1515 // Grpc.AspNetCore binds services through reflection on public types.
public abstract class EchoServiceBase
#pragma warning restore CA1515
{
    private const string ServiceName = "balancing.test.Echo";

    private static readonly Marshaller<string> Text = Marshallers.Create(
        value => Encoding.UTF8.GetBytes(value),
        bytes => Encoding.UTF8.GetString(bytes));

    internal static Method<string, string> UnaryMethod { get; } = new(MethodType.Unary, ServiceName, nameof(Unary), Text, Text);

    internal static Method<string, string> StreamMethod { get; } = new(MethodType.ServerStreaming, ServiceName, nameof(Stream), Text, Text);

    internal static Method<string, string> ChatMethod { get; } = new(MethodType.DuplexStreaming, ServiceName, nameof(Chat), Text, Text);

    internal static Method<string, string> SlowMethod { get; } = new(MethodType.Unary, ServiceName, nameof(Slow), Text, Text);

    /// <summary>Called by Grpc.AspNetCore, which then finds each handler by name among the overrides.</summary>
    public static void BindService(ServiceBinderBase binder, EchoServiceBase? service)
    {
        ArgumentNullException.ThrowIfNull(binder);
        binder.AddMethod(UnaryMethod, service is null ? null! : new UnaryServerMethod<string, string>(service.Unary));
        binder.AddMethod(StreamMethod, service is null ? null! : new ServerStreamingServerMethod<string, string>(service.Stream));
        binder.AddMethod(ChatMethod, service is null ? null! : new DuplexStreamingServerMethod<string, string>(service.Chat));
        binder.AddMethod(SlowMethod, service is null ? null! : new UnaryServerMethod<string, string>(service.Slow));
    }

    public abstract Task<string> Unary(string request, ServerCallContext context);

    public abstract Task Stream(string request, IServerStreamWriter<string> responseStream, ServerCallContext context);

    public abstract Task Chat(IAsyncStreamReader<string> requestStream, IServerStreamWriter<string> responseStream, ServerCallContext context);

    public abstract Task<string> Slow(string request, ServerCallContext context);
}

/// <summary>The backend's implementation, recording what the tests look at.</summary>
#pragma warning disable CA1515 // Grpc.AspNetCore binds services through reflection on public types.
public sealed class EchoService : EchoServiceBase
#pragma warning restore CA1515
{
    private readonly TaskCompletionSource _slowCallAborted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly System.Threading.Channels.Channel<bool> _acknowledged = System.Threading.Channels.Channel.CreateUnbounded<bool>();

    internal string? LastCaller { get; private set; }

    internal Task SlowCallAborted => _slowCallAborted.Task;

    /// <summary>Lets <see cref="Stream"/> write its next message.</summary>
    internal void Acknowledge() => _acknowledged.Writer.TryWrite(true);

    public override async Task<string> Unary(string request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        LastCaller = context.RequestHeaders.GetValue("x-caller");
        if (request == "fail")
        {
            throw new RpcException(new Status(StatusCode.NotFound, "no such thing"), new Metadata { { "x-reason", "why-not" } });
        }

        await context.WriteResponseHeadersAsync(new Metadata { { "x-header", "present" } });
        context.ResponseTrailers.Add("x-trailer", "ok-trailer");
        return "unary: " + request;
    }

    public override async Task Stream(string request, IServerStreamWriter<string> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var count = int.Parse(request, System.Globalization.CultureInfo.InvariantCulture);
        for (var i = 0; i < count; i++)
        {
            await responseStream.WriteAsync($"item {i}", context.CancellationToken);
            await _acknowledged.Reader.ReadAsync(context.CancellationToken);
        }

        context.ResponseTrailers.Add("x-count", count.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    public override async Task Chat(IAsyncStreamReader<string> requestStream, IServerStreamWriter<string> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        await foreach (var message in requestStream.ReadAllAsync(context.CancellationToken))
        {
            await responseStream.WriteAsync("chat: " + message, context.CancellationToken);
        }
    }

    public override async Task<string> Slow(string request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
            return request;
        }
        catch (OperationCanceledException)
        {
            _slowCallAborted.TrySetResult();
            throw;
        }
    }
}
