using Balancing.AspNetCore.Tests.Infrastructure;

namespace Balancing.AspNetCore.Tests.Forwarding;

[TestClass]
public sealed class XForwardedHeadersTests
{
    private const string Spoofed =
        "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.example\r\nForwarded: for=6.6.6.6\r\n";

    [TestMethod]
    public async Task Default_ClientValuesAreReplacedByTheBalancers()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend));

        await balancer.SendRawAsync($"GET / HTTP/1.1\r\nHost: public.example:8080\r\n{Spoofed}Connection: close\r\n\r\n");

        var headers = backend.Received.Single().Headers;
        Assert.AreEqual("127.0.0.1", headers["X-Forwarded-For"].Single());
        Assert.AreEqual("http", headers["X-Forwarded-Proto"].Single());
        Assert.AreEqual("public.example:8080", headers["X-Forwarded-Host"].Single());
        Assert.IsFalse(headers.ContainsKey("Forwarded"), "a client-supplied Forwarded header must not pass");
    }

    [TestMethod]
    public async Task Append_FromUntrustedPeer_ReplacesLikeSet()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        var settings = BalancerHost.PoolSettings(backend);
        settings["LoadBalancer:Forwarding:XForwarded"] = "Append";
        await using var balancer = await BalancerHost.StartAsync(settings);

        await balancer.SendRawAsync($"GET / HTTP/1.1\r\nHost: h\r\n{Spoofed}Connection: close\r\n\r\n");

        var headers = backend.Received.Single().Headers;
        Assert.AreEqual("127.0.0.1", headers["X-Forwarded-For"].Single());
        Assert.AreEqual("http", headers["X-Forwarded-Proto"].Single());
        Assert.AreEqual("h", headers["X-Forwarded-Host"].Single());
    }

    [TestMethod]
    [DataRow("127.0.0.1")]
    [DataRow("127.0.0.0/8")]
    public async Task Append_FromTrustedProxy_AppendsPeerAndKeepsOriginalSchemeAndHost(string trusted)
    {
        await using var backend = await TestBackend.StartAsync("b1");
        var settings = BalancerHost.PoolSettings(backend);
        settings["LoadBalancer:Forwarding:XForwarded"] = "Append";
        settings["LoadBalancer:Forwarding:TrustedProxies:0"] = trusted;
        await using var balancer = await BalancerHost.StartAsync(settings);

        await balancer.SendRawAsync($"GET / HTTP/1.1\r\nHost: h\r\n{Spoofed}Connection: close\r\n\r\n");

        var headers = backend.Received.Single().Headers;
        Assert.AreEqual("6.6.6.6, 127.0.0.1", headers["X-Forwarded-For"].Single());
        Assert.AreEqual("https", headers["X-Forwarded-Proto"].Single());
        Assert.AreEqual("evil.example", headers["X-Forwarded-Host"].Single());
    }

    [TestMethod]
    public async Task TrustedProxy_WithSetMode_StillReplaces()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        var settings = BalancerHost.PoolSettings(backend);
        settings["LoadBalancer:Forwarding:TrustedProxies:0"] = "127.0.0.1";
        await using var balancer = await BalancerHost.StartAsync(settings);

        await balancer.SendRawAsync($"GET / HTTP/1.1\r\nHost: h\r\n{Spoofed}Connection: close\r\n\r\n");

        Assert.AreEqual("127.0.0.1", backend.Received.Single().Headers["X-Forwarded-For"].Single());
    }

    [TestMethod]
    public async Task Remove_NoForwardingHeadersReachTheBackend()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        var settings = BalancerHost.PoolSettings(backend);
        settings["LoadBalancer:Forwarding:XForwarded"] = "Remove";
        await using var balancer = await BalancerHost.StartAsync(settings);

        await balancer.SendRawAsync($"GET / HTTP/1.1\r\nHost: h\r\n{Spoofed}Connection: close\r\n\r\n");

        var headers = backend.Received.Single().Headers;
        foreach (var name in new[] { "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Forwarded" })
        {
            Assert.IsFalse(headers.ContainsKey(name), $"{name} reached the backend");
        }
    }

    [TestMethod]
    public async Task Off_ClientValuesPassUntouched()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        var settings = BalancerHost.PoolSettings(backend);
        settings["LoadBalancer:Forwarding:XForwarded"] = "Off";
        await using var balancer = await BalancerHost.StartAsync(settings);

        await balancer.SendRawAsync($"GET / HTTP/1.1\r\nHost: h\r\n{Spoofed}Connection: close\r\n\r\n");

        var headers = backend.Received.Single().Headers;
        Assert.AreEqual("6.6.6.6", headers["X-Forwarded-For"].Single());
        Assert.AreEqual("https", headers["X-Forwarded-Proto"].Single());
    }

    [TestMethod]
    public async Task Set_ConnectionListingTheForwardingHeaders_CannotStripTheBalancersValues()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend));

        await balancer.SendRawAsync("GET / HTTP/1.1\r\nHost: h\r\nConnection: X-Forwarded-For, X-Forwarded-Proto\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n");

        var headers = backend.Received.Single().Headers;
        Assert.AreEqual("127.0.0.1", headers["X-Forwarded-For"].Single());
        Assert.AreEqual("http", headers["X-Forwarded-Proto"].Single());
    }
}
