using Balancing.AspNetCore.Tests.Infrastructure;

namespace Balancing.AspNetCore.Tests.Faults;

/// <summary>Requests over the server's header limit or the configured body limit are answered by the balancer and reach no backend whole.</summary>
[TestClass]
public sealed class RequestLimitTests
{
    [TestMethod]
    public async Task HeadersOverServerLimit_Answers431()
    {
        await using var backend = RawBackend.Recording("b1");
        await using var balancer = await StartAsync(backend);

        // Kestrel's default MaxRequestHeadersTotalSize is 32 KiB.
        var answer = await balancer.SendRawAsync($"GET / HTTP/1.1\r\nHost: lb.test\r\nX-Big: {new string('x', 40 * 1024)}\r\n\r\n");

        StringAssert.StartsWith(answer, "HTTP/1.1 431 ", answer);
        Assert.AreEqual(0, backend.Connections);
    }

    [TestMethod]
    public async Task DeclaredBodyOverLimit_Answers413BeforeAnyBackend()
    {
        await using var backend = RawBackend.Recording("b1");
        await using var balancer = await StartAsync(backend);

        var answer = await balancer.SendRawAsync($"POST /upload HTTP/1.1\r\nHost: lb.test\r\nContent-Length: 1000\r\n\r\n{new string('a', 1000)}");

        StringAssert.StartsWith(answer, "HTTP/1.1 413 ", answer);
        Assert.AreEqual(0, backend.Connections, "a body declared too large is refused before a backend is chosen");
    }

    [TestMethod]
    public async Task ChunkedBodyOverLimit_Answers413AndNoBackendGetsItWhole()
    {
        await using var backend = RawBackend.Recording("b1");
        await using var balancer = await StartAsync(backend);
        var chunk = new string('a', 200);

        var answer = await balancer.SendRawAsync($"POST /upload HTTP/1.1\r\nHost: lb.test\r\nTransfer-Encoding: chunked\r\n\r\nC8\r\n{chunk}\r\n0\r\n\r\n");

        StringAssert.StartsWith(answer, "HTTP/1.1 413 ", answer);
        Assert.IsEmpty(backend.Received, "the backend must not receive a complete request built from a refused body");
        var state = balancer.Registry.GetPool("default")!.Backends[0];
        await Eventually.TrueAsync(() => state.InFlight == 0);
        Assert.AreEqual(0L, state.TotalFailures, "the client's body was refused, not the backend's answer");
    }

    private static Task<BalancerHost> StartAsync(RawBackend backend)
    {
        var settings = backend.SingleAttemptPool();
        settings["LoadBalancer:Forwarding:MaxRequestBodySize"] = "100";
        return BalancerHost.StartAsync(settings);
    }
}
