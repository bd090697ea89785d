using Balancing.AspNetCore.Tests.Infrastructure;

namespace Balancing.AspNetCore.Tests.Faults;

/// <summary>
/// Malformed and ambiguous HTTP/1.1 requests, sent as raw bytes to the balancer. Each either gets a 4xx from the
/// balancer and reaches no backend, or reaches the backend as exactly one request with unambiguous framing, so a
/// backend can never read a second, smuggled request out of one.
/// </summary>
[TestClass]
public sealed class RequestSmugglingTests
{
    [TestMethod]
    [DataRow("Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", DisplayName = "two different Content-Length")]
    [DataRow("Content-Length: 3, 4\r\n\r\nabcd", DisplayName = "Content-Length list")]
    [DataRow("Transfer-Encoding: xchunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", DisplayName = "unknown transfer coding")]
    [DataRow("Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", DisplayName = "chunk size not hex")]
    [DataRow("Transfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n0\r\n\r\n", DisplayName = "negative chunk size")]
    [DataRow("Transfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n", DisplayName = "space after chunk size")]
    [DataRow("Transfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n", DisplayName = "chunk longer than its size")]
    [DataRow("X-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n", DisplayName = "obs-fold")]
    [DataRow("Content-Length : 3\r\n\r\nabc", DisplayName = "space before colon")]
    public async Task Malformed_IsRefusedAndReachesNoBackend(string rest)
    {
        await using var backend = RawBackend.Recording("b1");
        await using var balancer = await StartAsync(backend);

        var answer = await balancer.SendRawAsync("POST /upload HTTP/1.1\r\nHost: lb.test\r\n" + rest);

        StringAssert.StartsWith(answer, "HTTP/1.1 400 ", answer);
        Assert.IsEmpty(backend.Received, string.Join("\n---\n", backend.Received));
    }

    [TestMethod]
    [DataRow("Transfer-Encoding: chunked, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", DisplayName = "chunked twice")]
    [DataRow("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", DisplayName = "Content-Length and Transfer-Encoding")]
    [DataRow("Transfer-Encoding: chunked\r\nContent-Length: 30\r\n\r\n3\r\nabc\r\n0\r\n\r\n", DisplayName = "Transfer-Encoding and a longer Content-Length")]
    [DataRow("Transfer-Encoding: chunked\nX-Bare: lf\r\n\r\n3\r\nabc\r\n0\r\n\r\n", DisplayName = "bare LF in the header block")]
    public async Task AmbiguousFraming_ReachesBackendAsOneCleanRequest(string rest)
    {
        await using var backend = RawBackend.Recording("b1");
        await using var balancer = await StartAsync(backend);

        var answer = await balancer.SendRawAsync("POST /upload HTTP/1.1\r\nHost: lb.test\r\n" + rest);

        StringAssert.StartsWith(answer, "HTTP/1.1 200 ", answer);
        var received = Assert.ContainsSingle(backend.Received);
        AssertOneFraming(received);
        StringAssert.EndsWith(received, "abc\r\n0\r\n\r\n", "the body is the client's three bytes, re-chunked");
        Assert.AreEqual(CountOf(received, "\n"), CountOf(received, "\r\n"), "every line the backend reads ends in CRLF");
    }

    [TestMethod]
    public async Task SignedContentLength_ReachesBackendAsPlainDigits()
    {
        // Kestrel reads "+3" as 3. The backend must not see the sign: a stricter parser would refuse it, a laxer one
        // might read it otherwise. The forwarded header is the number Kestrel framed the body by.
        await using var backend = RawBackend.Recording("b1");
        await using var balancer = await StartAsync(backend);

        var answer = await balancer.SendRawAsync("POST /upload HTTP/1.1\r\nHost: lb.test\r\nContent-Length: +3\r\n\r\nabc");

        StringAssert.StartsWith(answer, "HTTP/1.1 200 ", answer);
        var received = Assert.ContainsSingle(backend.Received);
        AssertOneFraming(received);
        Assert.AreEqual("3", RawConnection.HeaderValue(received, "Content-Length"), received);
        StringAssert.EndsWith(received, "\r\n\r\nabc", received);
    }

    [TestMethod]
    public async Task PipelinedSmuggleAttempt_ReachesBackendAsTheClientsRequestsOnly()
    {
        // A classic CL.TE shape: a front end that believed Content-Length would forward "G" as the start of a
        // second request. Kestrel frames by Transfer-Encoding; what reaches the backend is re-framed from scratch.
        await using var backend = RawBackend.Recording("b1");
        await using var balancer = await StartAsync(backend);

        var answer = await balancer.SendRawAsync(
            "POST /a HTTP/1.1\r\nHost: lb.test\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: lb.test\r\n\r\n",
            TimeSpan.FromSeconds(5));

        StringAssert.StartsWith(answer, "HTTP/1.1 200 ", answer);
        Assert.IsNotEmpty(backend.Received);
        foreach (var request in backend.Received)
        {
            AssertOneFraming(request);
            Assert.AreEqual(1, CountOf(request, " HTTP/1.1\r\n"), request);
        }

        var post = backend.Received.First();
        StringAssert.StartsWith(post, "POST /a ", post);
        Assert.IsFalse(post.Split("\r\n").Any(l => l.StartsWith("Content-Length: 6", StringComparison.OrdinalIgnoreCase)), post);
    }

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    [TestMethod]
    public async Task UnderscoreHeader_IsDroppedSoItCannotPassForADashedOne()
    {
        await using var backend = RawBackend.Recording("b1");
        await using var balancer = await StartAsync(backend);

        var answer = await balancer.SendRawAsync("GET /who HTTP/1.1\r\nHost: lb.test\r\nX_Forwarded_For: 10.9.9.9\r\nX-Kept: yes\r\n\r\n");

        StringAssert.StartsWith(answer, "HTTP/1.1 200 ", answer);
        var received = Assert.ContainsSingle(backend.Received);
        Assert.DoesNotContain("X_Forwarded_For", received, received);
        Assert.DoesNotContain("10.9.9.9", received, received);
        Assert.Contains("X-Kept: yes", received, received);
    }

    [TestMethod]
    public async Task UnderscoreHeader_AllowedByConfiguration_IsForwarded()
    {
        await using var backend = RawBackend.Recording("b1");
        var settings = backend.SingleAttemptPool();
        settings["LoadBalancer:Forwarding:AllowUnderscoresInHeaders"] = "true";
        await using var balancer = await BalancerHost.StartAsync(settings);

        var answer = await balancer.SendRawAsync("GET /who HTTP/1.1\r\nHost: lb.test\r\nx_request_tag: 7\r\n\r\n");

        StringAssert.StartsWith(answer, "HTTP/1.1 200 ", answer);
        Assert.AreEqual("7", RawConnection.HeaderValue(Assert.ContainsSingle(backend.Received), "x_request_tag"));
    }

    private static Task<BalancerHost> StartAsync(RawBackend backend) => BalancerHost.StartAsync(backend.SingleAttemptPool());

    /// <summary>A request the backend got carries exactly one way of framing its body.</summary>
    private static void AssertOneFraming(string request)
    {
        var head = request[..(request.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 2)];
        var lengths = head.Split("\r\n").Count(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        var codings = head.Split("\r\n").Where(l => l.StartsWith("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.IsLessThanOrEqualTo(1, lengths + codings.Count, head);
        if (codings.Count == 1)
        {
            Assert.AreEqual("Transfer-Encoding: chunked", codings[0], head);
        }
    }
}
