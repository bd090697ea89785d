using System.Net;
using Balancing.AspNetCore.Forwarding;
using Microsoft.AspNetCore.Http;

namespace Balancing.AspNetCore.Tests.Forwarding;

[TestClass]
public sealed class HashKeyReaderTests
{
    private static readonly IPAddress Proxy = IPAddress.Parse("10.0.0.1");

    [TestMethod]
    public void ReadKey_Header_IsItsFirstNonEmptyValue()
    {
        var context = new DefaultHttpContext();
        context.Request.Headers["X-Tenant"] = new[] { "", "acme", "other" };

        var key = HashKeyReader.ReadKey(context.Request, Options(ConsistentHashKey.Header, "x-tenant"));

        Assert.AreEqual("acme", key);
    }

    [TestMethod]
    public void ReadKey_HeaderMissing_IsNull()
    {
        var key = HashKeyReader.ReadKey(new DefaultHttpContext().Request, Options(ConsistentHashKey.Header, "X-Tenant"));

        Assert.IsNull(key);
    }

    [TestMethod]
    public void ReadKey_Cookie_IsItsValue()
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Cookie = "theme=dark; session=abc123";

        var key = HashKeyReader.ReadKey(context.Request, Options(ConsistentHashKey.Cookie, "session"));

        Assert.AreEqual("abc123", key);
    }

    [TestMethod]
    public void ReadKey_Path_IsThePathWithoutTheQuery()
    {
        var context = new DefaultHttpContext();
        context.Request.Path = "/videos/42";
        context.Request.QueryString = new QueryString("?t=10");

        var key = HashKeyReader.ReadKey(context.Request, Options(ConsistentHashKey.Path));

        Assert.AreEqual("/videos/42", key);
    }

    [TestMethod]
    public void ReadKey_ClientIp_IsNullSoTheAddressIsHashed()
    {
        var context = new DefaultHttpContext();
        context.Request.Path = "/videos/42";

        Assert.IsNull(HashKeyReader.ReadKey(context.Request, Options(ConsistentHashKey.ClientIp)));
    }

    [TestMethod]
    [DataRow("203.0.113.9", "203.0.113.9")]
    [DataRow("203.0.113.9, 10.0.0.2", "203.0.113.9")]
    [DataRow("198.51.100.1, 203.0.113.9, 10.0.0.2", "203.0.113.9")]
    [DataRow("203.0.113.9:51000", "203.0.113.9")]
    [DataRow("[2001:db8::7]:51000", "2001:db8::7")]
    [DataRow("2001:db8::7", "2001:db8::7")]
    [DataRow("10.0.0.3, 10.0.0.2", "10.0.0.3")]
    [DataRow("unknown, 10.0.0.2", "10.0.0.2")]
    [DataRow("", "10.0.0.1")]
    public void ClientAddress_TrustedProxyInAppendMode_IsTheNearestUntrustedForwardedAddress(string forwardedFor, string expected)
    {
        var context = Request(Proxy, forwardedFor);

        var address = HashKeyReader.ClientAddress(context, Settings(XForwardedMode.Append, "10.0.0.0/8"));

        Assert.AreEqual(IPAddress.Parse(expected), address);
    }

    [TestMethod]
    public void ClientAddress_SeveralForwardedForHeaders_ReadsThemAsOneList()
    {
        var context = Request(Proxy);
        context.Request.Headers["X-Forwarded-For"] = new[] { "203.0.113.9", "10.0.0.2" };

        var address = HashKeyReader.ClientAddress(context, Settings(XForwardedMode.Append, "10.0.0.0/8"));

        Assert.AreEqual(IPAddress.Parse("203.0.113.9"), address);
    }

    [TestMethod]
    public void ClientAddress_UntrustedPeer_IsThePeerWhateverItForwards()
    {
        var peer = IPAddress.Parse("198.51.100.20");
        var context = Request(peer, "203.0.113.9");

        Assert.AreEqual(peer, HashKeyReader.ClientAddress(context, Settings(XForwardedMode.Append, "10.0.0.0/8")));
    }

    [TestMethod]
    [DataRow(XForwardedMode.Set)]
    [DataRow(XForwardedMode.Remove)]
    [DataRow(XForwardedMode.Off)]
    public void ClientAddress_TrustedPeerOutsideAppendMode_IsThePeer(XForwardedMode mode)
    {
        var context = Request(Proxy, "203.0.113.9");

        Assert.AreEqual(Proxy, HashKeyReader.ClientAddress(context, Settings(mode, "10.0.0.0/8")));
    }

    [TestMethod]
    public void CreateContext_OtherStrategy_CarriesThePeerAndNoKey()
    {
        var options = new PoolOptions { Strategy = LoadStrategyNames.RoundRobin };
        options.ConsistentHash.Key = ConsistentHashKey.Path;
        options.Backends["b1"] = new BackendOptions { Address = "http://b1.test" };
        var pool = NewPool(options);
        var context = Request(Proxy, "203.0.113.9");
        context.Request.Path = "/a";

        var balancing = HashKeyReader.CreateContext(context, pool, Settings(XForwardedMode.Append, "10.0.0.0/8"));

        Assert.AreEqual((Proxy, (string?)null), (balancing.ClientAddress, balancing.Key));
    }

    [TestMethod]
    public void CreateContext_ConsistentHash_CarriesTheKeyAndTheEffectiveClient()
    {
        var options = new PoolOptions { Strategy = LoadStrategyNames.ConsistentHash };
        options.ConsistentHash.Key = ConsistentHashKey.Path;
        options.Backends["b1"] = new BackendOptions { Address = "http://b1.test" };
        var pool = NewPool(options);
        var context = Request(Proxy, "203.0.113.9");
        context.Request.Path = "/a";

        var balancing = HashKeyReader.CreateContext(context, pool, Settings(XForwardedMode.Append, "10.0.0.0/8"));

        Assert.AreEqual((IPAddress.Parse("203.0.113.9"), (string?)"/a"), (balancing.ClientAddress, balancing.Key));
    }

    private static ConsistentHashOptions Options(ConsistentHashKey key, string? name = null) => new() { Key = key, KeyName = name };

    private static DefaultHttpContext Request(IPAddress peer, string? forwardedFor = null)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = peer;
        if (forwardedFor is not null)
        {
            context.Request.Headers["X-Forwarded-For"] = forwardedFor;
        }

        return context;
    }

    private static ForwardingSettings Settings(XForwardedMode mode, params string[] trusted)
    {
        var options = new LoadBalancerOptions();
        options.Forwarding.XForwarded = mode;
        options.Forwarding.TrustedProxies.AddRange(trusted);
        ForwardingSettings? cache = null;
        return ForwardingSettings.For(options, ref cache);
    }

    private static Balancing.Pools.ServerPool NewPool(PoolOptions options)
    {
        ILoadStrategy strategy = options.Strategy == LoadStrategyNames.ConsistentHash
            ? new Balancing.Strategies.ConsistentHashStrategy()
            : new Balancing.Strategies.RoundRobinStrategy();
        return new Balancing.Pools.ServerPool("default", options, strategy, TimeProvider.System);
    }
}
