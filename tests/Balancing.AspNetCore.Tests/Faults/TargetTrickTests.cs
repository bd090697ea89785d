using Balancing.AspNetCore.Tests.Infrastructure;

namespace Balancing.AspNetCore.Tests.Faults;

/// <summary>
/// Request targets and Host headers that try to steer the balancer elsewhere. Whatever the client writes, the balancer
/// calls only its configured backend, on that backend's own address; a second listener standing for an internal
/// service is never contacted.
/// </summary>
[TestClass]
public sealed class TargetTrickTests
{
    [TestMethod]
    [DataRow("GET /../../internal HTTP/1.1\r\nHost: lb.test\r\n\r\n", 200, DisplayName = "dot segments")]
    [DataRow("GET /%2e%2e/%2e%2e/internal HTTP/1.1\r\nHost: lb.test\r\n\r\n", 200, DisplayName = "encoded dot segments")]
    [DataRow("GET /a%2F..%2F..%2Finternal HTTP/1.1\r\nHost: lb.test\r\n\r\n", 200, DisplayName = "encoded slashes")]
    [DataRow("GET //127.0.0.1:{internal}/x HTTP/1.1\r\nHost: lb.test\r\n\r\n", 200, DisplayName = "authority-like path")]
    [DataRow("GET http://127.0.0.1:{internal}/x HTTP/1.1\r\nHost: 127.0.0.1:{internal}\r\n\r\n", 200, DisplayName = "absolute-form target")]
    [DataRow("GET http://internal.test/x HTTP/1.1\r\nHost: internal.test\r\n\r\n", 200, DisplayName = "absolute-form with a name")]
    [DataRow("GET /x HTTP/1.1\r\nHost: 127.0.0.1:{internal}\r\n\r\n", 200, DisplayName = "Host names an internal address")]
    [DataRow("GET /x HTTP/1.1\r\nHost: lb.test@127.0.0.1:{internal}\r\n\r\n", 400, DisplayName = "at sign in Host")]
    [DataRow("GET http://lb.test@127.0.0.1:{internal}/x HTTP/1.1\r\nHost: 127.0.0.1:{internal}\r\n\r\n", 200, DisplayName = "at sign in an absolute-form target")]
    [DataRow("GET @127.0.0.1:{internal}/x HTTP/1.1\r\nHost: lb.test\r\n\r\n", 400, DisplayName = "at sign starting the target")]
    [DataRow("GET /x HTTP/1.1\r\nHost: lb.test\r\nX-Forwarded-Host: 127.0.0.1:{internal}\r\n\r\n", 200, DisplayName = "X-Forwarded-Host")]
    public async Task Trick_ReachesOnlyTheConfiguredBackend(string request, int status)
    {
        await using var backend = RawBackend.Recording("b1");
        await using var internalService = RawBackend.Recording("internal");
        await using var balancer = await StartAsync(backend);

        var answer = await balancer.SendRawAsync(request.Replace("{internal}", internalService.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));

        Assert.AreEqual(0, internalService.Connections, answer);
        StringAssert.StartsWith(answer, $"HTTP/1.1 {status} ", answer);
        if (status != 200)
        {
            Assert.AreEqual(0, backend.Connections, "a refused request reaches no backend");
            return;
        }

        var received = Assert.ContainsSingle(backend.Received);
        StringAssert.StartsWith(received, "GET /", received);
        Assert.AreEqual($"127.0.0.1:{backend.Port}", RawConnection.HeaderValue(received, "Host"), received);
    }

    [TestMethod]
    public async Task Connect_Answers405AndReachesNoBackend()
    {
        await using var backend = RawBackend.Recording("b1");
        await using var internalService = RawBackend.Recording("internal");
        await using var balancer = await StartAsync(backend);
        var target = $"127.0.0.1:{internalService.Port}";

        var answer = await balancer.SendRawAsync($"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n");

        StringAssert.StartsWith(answer, "HTTP/1.1 405 ", answer);
        Assert.AreEqual(0, internalService.Connections);
        Assert.AreEqual(0, backend.Connections);
    }

    private static Task<BalancerHost> StartAsync(RawBackend backend) => BalancerHost.StartAsync(backend.SingleAttemptPool());
}
