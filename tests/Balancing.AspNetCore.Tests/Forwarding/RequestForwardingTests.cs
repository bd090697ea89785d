using System.Net;
using System.Text;
using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Balancing.AspNetCore.Tests.Forwarding;

[TestClass]
public sealed class RequestForwardingTests
{
    [TestMethod]
    [DataRow("/a%2Fb/c%20d?x=%2F&y=1+2&z=%E2%82%AC")]
    [DataRow("/plain/path")]
    [DataRow("/with//double/slash?")]
    [DataRow("/%7Euser/%25percent?q=a%26b")]
    public async Task Get_EncodedPathAndQuery_ReachBackendByteForByte(string target)
    {
        await using var backend = await TestBackend.StartAsync("b1");
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend));

        var response = await balancer.SendRawAsync($"GET {target} HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n");

        StringAssert.StartsWith(response, "HTTP/1.1 200");
        Assert.IsTrue(backend.Received.TryDequeue(out var received));
        Assert.AreEqual(target, received.RawTarget);
    }

    [TestMethod]
    [DataRow("GET")]
    [DataRow("POST")]
    [DataRow("PUT")]
    [DataRow("PATCH")]
    [DataRow("DELETE")]
    [DataRow("OPTIONS")]
    [DataRow("PURGE")]
    public async Task Send_AnyMethod_ReachesBackendWithItsBody(string method)
    {
        await using var backend = await TestBackend.StartAsync("b1", async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            await context.Response.WriteAsync($"{context.Request.Method}:{body}");
        });
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend));
        var hasBody = method is not ("GET" or "OPTIONS");
        using var request = new HttpRequestMessage(new HttpMethod(method), "/m");
        if (hasBody)
        {
            request.Content = new StringContent("payload-" + method, Encoding.UTF8, "text/plain");
        }

        using var response = await balancer.Client.SendAsync(request);

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual(hasBody ? $"{method}:payload-{method}" : $"{method}:", await response.Content.ReadAsStringAsync());
    }

    [TestMethod]
    public async Task Head_ResponseKeepsContentLengthWithoutBody()
    {
        await using var backend = await TestBackend.StartAsync("b1", context =>
        {
            context.Response.ContentLength = 1234;
            return Task.CompletedTask;
        });
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend));

        using var response = await balancer.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/"));

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual(1234, response.Content.Headers.ContentLength);
        Assert.AreEqual("HEAD", backend.Received.Single().Method);
    }

    [TestMethod]
    public async Task Post_ChunkedRequestBody_ArrivesWhole()
    {
        await using var backend = await TestBackend.StartAsync("b1", async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            await context.Response.WriteAsync("got:" + await reader.ReadToEndAsync());
        });
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend));

        var response = await balancer.SendRawAsync(
            "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
            "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");

        StringAssert.StartsWith(response, "HTTP/1.1 200");
        StringAssert.Contains(response, "got:hello world");
        var received = backend.Received.Single();
        Assert.IsFalse(received.Headers.ContainsKey("Content-Length"), "an unknown length must stay unknown, not be buffered to count it");
    }

    [TestMethod]
    public async Task Post_ExpectContinue_ClientGets100ThenTheBackendsAnswer()
    {
        await using var backend = await TestBackend.StartAsync("b1", async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            await context.Response.WriteAsync("got:" + await reader.ReadToEndAsync());
        });
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend));
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(IPAddress.Loopback, balancer.BaseUri.Port);
        var stream = socket.GetStream();

        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"));
        var interim = await ReadUntilAsync(stream, "\r\n\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes("hello"));
        var final = await BalancerHost.ReadResponseAsync(stream, TimeSpan.FromSeconds(10));

        StringAssert.StartsWith(interim, "HTTP/1.1 100 Continue");
        StringAssert.StartsWith(final, "HTTP/1.1 200");
        StringAssert.Contains(final, "got:hello");
        Assert.AreEqual("100-continue", backend.Received.Single().Headers["Expect"].Single());
    }

    [TestMethod]
    public async Task Get_ResponseTrailers_AreForwardedOverHttp2BothWays()
    {
        await using var backend = await TestBackend.StartAsync("b1", async context =>
        {
            context.Response.DeclareTrailer("grpc-status");
            await context.Response.WriteAsync("body");
            context.Response.AppendTrailer("grpc-status", "0");
        }, protocols: Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2);
        var settings = BalancerHost.PoolSettings(backend);
        settings["LoadBalancer:Pools:default:HttpVersion"] = "2";
        settings["LoadBalancer:Pools:default:VersionPolicy"] = "RequestVersionExact";
        await using var balancer = await BalancerHost.StartAsync(settings, protocols: Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2);
        using var client = balancer.CreateClient();
        client.DefaultRequestVersion = HttpVersion.Version20;
        client.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact;

        using var response = await client.GetAsync("/", HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStringAsync();

        Assert.AreEqual(new Version(2, 0), response.Version);
        Assert.AreEqual("body", body);
        Assert.IsTrue(response.TrailingHeaders.TryGetValues("grpc-status", out var status), "trailer missing");
        Assert.AreEqual("0", status.Single());
    }

    [TestMethod]
    public async Task Get_Status_AndReasonlessCodesPassThrough()
    {
        await using var backend = await TestBackend.StartAsync("b1", context =>
        {
            context.Response.StatusCode = int.Parse(context.Request.Query["code"]!, System.Globalization.CultureInfo.InvariantCulture);
            return Task.CompletedTask;
        });
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend));

        foreach (var code in new[] { 201, 204, 301, 304, 404, 418, 500, 503, 599 })
        {
            using var response = await balancer.Client.GetAsync($"/?code={code}");
            Assert.AreEqual(code, (int)response.StatusCode);
        }
    }

    private static async Task<string> ReadUntilAsync(Stream stream, string terminator)
    {
        var text = new StringBuilder();
        var buffer = new byte[1];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!text.ToString().Contains(terminator, StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, cts.Token);
            if (read == 0)
            {
                break;
            }

            text.Append((char)buffer[0]);
        }

        return text.ToString();
    }
}
