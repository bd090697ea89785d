using Balancing.AspNetCore.Tests.Infrastructure;

namespace Balancing.AspNetCore.Tests.Forwarding;

[TestClass]
public sealed class HeaderForwardingTests
{
    // Kestrel reduces an incoming Connection header to keep-alive/close/upgrade before the app sees it, so
    // request headers a client lists in Connection are invisible as such; the response direction is covered below,
    // and the forwarding headers the balancer owns are always overwritten (XForwardedHeadersTests).
    [TestMethod]
    public async Task Request_HopByHopHeaders_AreNotForwarded()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend));

        await balancer.SendRawAsync(
            "GET / HTTP/1.1\r\nHost: x\r\n" +
            "Connection: keep-alive\r\n" +
            "Keep-Alive: timeout=5\r\n" +
            "Proxy-Connection: keep-alive\r\n" +
            "Proxy-Authorization: Basic Zm9vOmJhcg==\r\n" +
            "TE: gzip\r\n" +
            "X-End-To-End: kept\r\n\r\n");

        var headers = backend.Received.Single().Headers;
        Assert.AreEqual("kept", headers["X-End-To-End"].Single());
        foreach (var name in new[] { "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "TE" })
        {
            Assert.IsFalse(headers.ContainsKey(name), $"{name} reached the backend");
        }
    }

    [TestMethod]
    public async Task Request_TeTrailers_IsForwardedForGrpc()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend));

        await balancer.SendRawAsync("GET / HTTP/1.1\r\nHost: x\r\nTE: trailers\r\nConnection: close\r\n\r\n");

        Assert.AreEqual("trailers", backend.Received.Single().Headers["TE"].Single());
    }

    [TestMethod]
    public async Task Response_HopByHopAndConnectionListedHeaders_AreNotForwarded()
    {
        await using var backend = await TestBackend.StartAsync("b1", context =>
        {
            context.Response.Headers["Keep-Alive"] = "timeout=5";
            context.Response.Headers["Proxy-Authenticate"] = "Basic";
            context.Response.Headers["Connection"] = "X-Backend-Hop";
            context.Response.Headers["X-Backend-Hop"] = "must-not-pass";
            context.Response.Headers["X-End-To-End"] = "kept";
            context.Response.Headers["Set-Cookie"] = new Microsoft.Extensions.Primitives.StringValues(["a=1", "b=2"]);
            return Task.CompletedTask;
        });
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend));

        using var response = await balancer.Client.GetAsync("/");

        Assert.AreEqual("kept", response.Headers.GetValues("X-End-To-End").Single());
        CollectionAssert.AreEqual(new[] { "a=1", "b=2" }, response.Headers.GetValues("Set-Cookie").ToArray());
        Assert.IsFalse(response.Headers.Contains("Keep-Alive"));
        Assert.IsFalse(response.Headers.Contains("Proxy-Authenticate"));
        Assert.IsFalse(response.Headers.Contains("X-Backend-Hop"));
    }

    [TestMethod]
    public async Task Request_MultiValuedAndContentHeaders_ArriveIntact()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend));

        await balancer.SendRawAsync(
            "POST / HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\nAccept: application/json\r\n" +
            "Content-Type: application/x-custom; charset=latin1\r\nContent-Length: 3\r\nCookie: a=1; b=2\r\nConnection: close\r\n\r\nabc");

        var headers = backend.Received.Single().Headers;
        Assert.AreEqual("text/html, application/json", string.Join(", ", headers["Accept"]));
        Assert.AreEqual("application/x-custom; charset=latin1", headers["Content-Type"].Single());
        Assert.AreEqual("3", headers["Content-Length"].Single());
        Assert.AreEqual("a=1; b=2", headers["Cookie"].Single());
    }

    [TestMethod]
    public async Task Request_Host_IsTheBackendsByDefault()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend));

        await balancer.SendRawAsync("GET / HTTP/1.1\r\nHost: public.example\r\nConnection: close\r\n\r\n");

        Assert.AreEqual($"127.0.0.1:{backend.Port}", backend.Received.Single().Headers["Host"].Single());
    }

    [TestMethod]
    public async Task Request_Host_IsTheClientsWhenPreserved()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        var settings = BalancerHost.PoolSettings(backend);
        settings["LoadBalancer:Pools:default:PreserveHostHeader"] = "true";
        await using var balancer = await BalancerHost.StartAsync(settings);

        await balancer.SendRawAsync("GET / HTTP/1.1\r\nHost: public.example\r\nConnection: close\r\n\r\n");

        Assert.AreEqual("public.example", backend.Received.Single().Headers["Host"].Single());
    }

    [TestMethod]
    public async Task Response_BackendServerAndDateHeaders_ArePassedThrough()
    {
        await using var backend = await TestBackend.StartAsync("b1", context =>
        {
            context.Response.Headers.Server = "backend/1.0";
            return Task.CompletedTask;
        });
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend));

        using var response = await balancer.Client.GetAsync("/");

        Assert.AreEqual("backend/1.0", response.Headers.Server.ToString());
    }
}
