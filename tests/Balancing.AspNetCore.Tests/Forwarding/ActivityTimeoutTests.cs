using System.Net;
using System.Threading.Channels;
using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Balancing.AspNetCore.Tests.Forwarding;

/// <summary>The pool timeout measures inactivity: an upload that keeps moving outlives it, a stalled one does not.</summary>
[TestClass]
public sealed class ActivityTimeoutTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    [TestMethod]
    public async Task Upload_LongerThanTimeoutButMoving_Succeeds()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var pieces = Channel.CreateUnbounded<int>();
        await using var backend = await TestBackend.StartAsync("b1", context => CountPiecesAsync(context, pieces.Writer));
        await using var balancer = await StartAsync(backend, clock);
        var body = new SteppedContent();

        var pending = balancer.Client.PostAsync("/upload", body);
        for (var i = 0; i < 5; i++)
        {
            body.Release();
            await pieces.Reader.ReadAsync().AsTask().WaitAsync(Patience);
            clock.Advance(TimeSpan.FromSeconds(6)); // 30 s in all, against a 10 s timeout
        }

        body.Finish();
        using var response = await pending.WaitAsync(Patience);

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual("5", await response.Content.ReadAsStringAsync());
    }

    [TestMethod]
    public async Task Upload_ClientStalledLongerThanTimeout_Answers408WithoutBlamingTheBackend()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var pieces = Channel.CreateUnbounded<int>();
        await using var backend = await TestBackend.StartAsync("b1", context => CountPiecesAsync(context, pieces.Writer));
        await using var balancer = await StartAsync(backend, clock);
        var body = new SteppedContent();

        var pending = balancer.Client.PostAsync("/upload", body);
        body.Release();
        await pieces.Reader.ReadAsync().AsTask().WaitAsync(Patience);
        clock.Advance(TimeSpan.FromSeconds(11));
        await Eventually.TrueAsync(() => balancer.Logs.GetSnapshot().Any(r => r.Id.Name == "ForwardFailed"));

        // The test client only reads a response once its own upload has ended.
        body.Finish();
        using var response = await pending.WaitAsync(Patience);

        Assert.AreEqual(HttpStatusCode.RequestTimeout, response.StatusCode);
        var state = balancer.Registry.GetPool("default")!.Backends[0];
        Assert.AreEqual(0L, state.TotalFailures, "the client stalled, not the backend");
        Assert.AreEqual(0, state.InFlight);
    }


    private static Task<BalancerHost> StartAsync(TestBackend backend, FakeTimeProvider clock)
    {
        var settings = BalancerHost.PoolSettings(backend);
        settings["LoadBalancer:Pools:default:Timeout"] = "00:00:10";
        return BalancerHost.StartWithClockAsync(settings, clock);
    }

    private static async Task CountPiecesAsync(HttpContext context, ChannelWriter<int> pieces)
    {
        var buffer = new byte[1024];
        var count = 0;
        int read;
        while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
        {
            count++;
            pieces.TryWrite(read);
        }

        await context.Response.WriteAsync(count.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>A chunked body that sends one small piece each time the test releases it.</summary>
    private sealed class SteppedContent : HttpContent
    {
        private readonly Channel<bool> _steps = Channel.CreateUnbounded<bool>();

        public void Release() => _steps.Writer.TryWrite(true);

        public void Finish() => _steps.Writer.TryComplete();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await foreach (var _ in _steps.Reader.ReadAllAsync())
            {
                await stream.WriteAsync(new byte[100]);
                await stream.FlushAsync();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }
}
