using System.Net;
using System.Text;
using Balancing.AspNetCore.Tests.Infrastructure;

namespace Balancing.AspNetCore.Tests.Faults;

/// <summary>
/// Backends that break the exchange in every way a socket allows. Before the response starts the client gets 502; once
/// it has started, the client's connection is aborted, so a cut body never looks complete. Each failure is charged to
/// the backend, which is what passive health counts.
/// </summary>
[TestClass]
public sealed class BackendFaultTests
{
    private static readonly TimeSpan Patience = Eventually.Patience;

    [TestMethod]
    public async Task ContentLengthBodyCutShort_AbortsClientAndChargesBackend()
    {
        await using var backend = RawBackend.Answering("cut", async connection =>
        {
            await connection.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + new string('a', 100));
            connection.Close();
        });

        await AssertAbortedMidBodyAsync(backend);
    }

    [TestMethod]
    public async Task ChunkedBodyCutShort_AbortsClientAndChargesBackend()
    {
        await using var backend = RawBackend.Answering("cut", async connection =>
        {
            await connection.WriteAsync("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
            connection.Close();
        });

        await AssertAbortedMidBodyAsync(backend);
    }

    [TestMethod]
    public async Task BodyResetMidway_AbortsClientAndChargesBackend()
    {
        await using var backend = RawBackend.Answering("reset", async connection =>
        {
            await connection.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + new string('a', 100));
            connection.Reset();
        });

        await AssertAbortedMidBodyAsync(backend);
    }

    [TestMethod]
    public async Task BodyStalledLongerThanTimeout_AbortsClientAndChargesBackend()
    {
        await using var backend = RawBackend.Answering("stall", async connection =>
        {
            await connection.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + new string('a', 100));
            await connection.WaitForCloseAsync();
        });

        await AssertAbortedMidBodyAsync(backend, timeout: "00:00:00.500", charged: BackendOutcome.Timeout);
    }

    [TestMethod]
    public async Task BodiesCutShortAgainAndAgain_EjectTheBackend()
    {
        // The breaker judges an attempt at its headers (a 200 here); the body that breaks afterwards is fed to it too,
        // so the failure ratio sees it. (A watched attempt counts its headers as a success first, which is why the
        // consecutive-failure count cannot: see RELIABILITY.md.)
        await using var backend = RawBackend.Start("cut", async connection =>
        {
            while (await connection.ReadRequestAsync(withBody: true) is not null)
            {
                await connection.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + new string('a', 100));
                connection.Close();
            }
        });
        var settings = backend.SingleAttemptPool();
        settings["LoadBalancer:Pools:default:HealthCheck:Passive:MinimumThroughput"] = "3";
        settings["LoadBalancer:Pools:default:HealthCheck:Passive:MaxEjectionPercent"] = "100";
        await using var balancer = await BalancerHost.StartAsync(settings);
        var state = balancer.Registry.GetPool("default")!.Backends[0];

        for (var i = 0; i < 2; i++)
        {
            Assert.IsNotNull(await WholeResponseFailureAsync(balancer.Client));
            await Eventually.TrueAsync(() => state.InFlight == 0);
        }

        Assert.IsTrue(state.IsEjected, "two broken bodies out of three judged outcomes are over the failure ratio");
        Assert.AreEqual(BreakerState.Open, state.BreakerState);
    }

    [TestMethod]
    public async Task ResetBeforeHeaders_Answers502()
        => await AssertBadGatewayAsync(connection =>
        {
            connection.Reset();
            return Task.CompletedTask;
        });

    [TestMethod]
    public async Task CloseBeforeHeaders_Answers502()
        => await AssertBadGatewayAsync(connection =>
        {
            connection.Close();
            return Task.CompletedTask;
        });

    [TestMethod]
    public async Task GarbageInsteadOfHttp_Answers502()
        => await AssertBadGatewayAsync(async connection =>
        {
            await connection.WriteAsync("SSH-2.0-OpenSSH_9.2\r\nnot http at all\r\n\r\n");
            connection.Close();
        });

    [TestMethod]
    public async Task HeaderBlockBeyondHandlerLimit_Answers502()
        => await AssertBadGatewayAsync(async connection =>
        {
            // The handler accepts 64 KiB of response headers; this block is twice that.
            var head = new StringBuilder("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n");
            for (var i = 0; i < 128; i++)
            {
                head.Append(System.Globalization.CultureInfo.InvariantCulture, $"X-Filler-{i}: {new string('x', 1000)}\r\n");
            }

            await connection.WriteAsync(head.Append("\r\nok").ToString());
            await connection.WaitForCloseAsync();
        });

    private static async Task AssertAbortedMidBodyAsync(RawBackend backend, string? timeout = null, BackendOutcome charged = BackendOutcome.TransportError)
    {
        var settings = backend.SingleAttemptPool();
        if (timeout is not null)
        {
            settings["LoadBalancer:Pools:default:Timeout"] = timeout;
        }

        await using var balancer = await BalancerHost.StartAsync(settings);

        // Depending on how far the balancer's own output got before the abort, the client fails reading the headers
        // or the body; either way it must fail, never end with a short body it takes for the whole.
        var failure = await WholeResponseFailureAsync(balancer.Client);

        Assert.IsNotNull(failure, "a cut body must never be presented as complete");
        var state = balancer.Registry.GetPool("default")!.Backends[0];
        await Eventually.TrueAsync(() => state.InFlight == 0);
        Assert.AreEqual(1L, state.TotalFailures);
        Assert.AreEqual(charged, state.LastOutcome);
        Assert.IsTrue(balancer.Logs.GetSnapshot().Any(r => r.Id.Name == "ResponseAborted"));
    }

    private static async Task AssertBadGatewayAsync(Func<RawConnection, Task> respond)
    {
        await using var backend = RawBackend.Answering("bad", respond);
        await using var balancer = await BalancerHost.StartAsync(backend.SingleAttemptPool());

        using var response = await balancer.Client.GetAsync("/").WaitAsync(Patience);

        Assert.AreEqual(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.AreEqual("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var state = balancer.Registry.GetPool("default")!.Backends[0];
        Assert.AreEqual(1L, state.TotalFailures);
        Assert.AreEqual(BackendOutcome.TransportError, state.LastOutcome);
    }

    private static async Task<Exception?> WholeResponseFailureAsync(HttpClient client)
    {
        try
        {
            using var response = await client.GetAsync("/file", HttpCompletionOption.ResponseHeadersRead).WaitAsync(Patience);
            var body = await response.Content.ReadAsByteArrayAsync().WaitAsync(Patience);
            Assert.Fail($"The client got {(int)response.StatusCode} with a body of {body.Length} bytes as if complete.");
            return null;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return ex;
        }
    }
}
