using System.Net;
using Balancing.Configuration;
using Balancing.Strategies;

namespace Balancing.Core.Tests.Configuration;

[TestClass]
public sealed class LoadBalancerOptionsValidatorTests
{
    private const string Pool = "LoadBalancer:Pools:default";

    [TestMethod]
    [DataRow("10.1.2.3", "10.1.2.3/32")]
    [DataRow("::1", "::1/128")]
    [DataRow("10.0.0.0/8", "10.0.0.0/8")]
    [DataRow("192.168.0.0/16", "192.168.0.0/16")]
    [DataRow("2001:db8::/32", "2001:db8::/32")]
    [DataRow("  172.16.0.1  ", "172.16.0.1/32")]
    public void TryParseNetwork_AddressOrCidr_ReturnsNetwork(string value, string expected)
    {
        var parsed = LoadBalancerOptionsValidator.TryParseNetwork(value, out var network);

        Assert.AreEqual((true, IPNetwork.Parse(expected)), (parsed, network));
    }

    [TestMethod]
    [DataRow(null)]
    [DataRow("")]
    [DataRow("   ")]
    [DataRow("localhost")]
    [DataRow("10.0.0.256")]
    [DataRow("10.0.0.0/33")]
    [DataRow("2001:db8::/129")]
    [DataRow("10.0.0.0/")]
    [DataRow("/8")]
    [DataRow("garbage/8")]
    public void TryParseNetwork_Garbage_ReturnsFalse(string? value)
    {
        Assert.IsFalse(LoadBalancerOptionsValidator.TryParseNetwork(value, out _));
    }

    [TestMethod]
    [DataRow("http://b1.test")]
    [DataRow("http://b1.test:8080/")]
    [DataRow("https://b1.test/api/")]
    [DataRow("http://127.0.0.1:9001")]
    [DataRow("http://[::1]:9001/")]
    public void TryParseAddress_HttpOrHttps_ReturnsUri(string value)
    {
        var parsed = LoadBalancerOptionsValidator.TryParseAddress(value, out var address);

        Assert.AreEqual((true, new Uri(value)), (parsed, address));
    }

    [TestMethod]
    [DataRow("ftp://b1.test/")]
    [DataRow("file:///srv/b1")]
    [DataRow("/relative/path")]
    [DataRow("b1.test:8080")]
    [DataRow("http://b1.test/?x=1")]
    [DataRow("http://b1.test/#top")]
    [DataRow("http://user:secret@b1.test/")]
    [DataRow("http://user@b1.test/")]
    [DataRow("not a url")]
    [DataRow("")]
    public void TryParseAddress_Rejected_ReturnsFalseAndNull(string value)
    {
        var parsed = LoadBalancerOptionsValidator.TryParseAddress(value, out var address);

        Assert.AreEqual((false, (Uri?)null), (parsed, address));
    }

    [TestMethod]
    public void Validate_ValidOptions_ReturnsNoErrors()
    {
        var options = Options(("b1", "http://b1.test"));
        options.Forwarding.TrustedProxies.Add("10.0.0.0/8");

        var errors = CreateValidator().Validate(options, "LoadBalancer", []);

        Assert.IsEmpty(errors);
    }

    [TestMethod]
    public void Validate_MissingAddress_NamesTheKey()
    {
        var options = Options(("b1", ""));

        var errors = CreateValidator().Validate(options, "LoadBalancer", []);

        Assert.AreEqual($"{Pool}:Backends:b1:Address: is required.", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    public void Validate_UnknownStrategy_ListsKnownStrategies()
    {
        var options = Options(("b1", "http://b1.test"));
        options.Pools["default"].Strategy = "Random";

        var errors = CreateValidator().Validate(options, "LoadBalancer", []);

        Assert.AreEqual($"{Pool}:Strategy: unknown strategy 'Random'; known strategies are RoundRobin.", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(-1000)]
    public void Validate_NonPositivePoolTimeout_NamesTheKey(int milliseconds)
    {
        var options = Options(("b1", "http://b1.test"));
        options.Pools["default"].Timeout = TimeSpan.FromMilliseconds(milliseconds);

        var errors = CreateValidator().Validate(options, "LoadBalancer", []);

        Assert.StartsWith($"{Pool}:Timeout: must be a positive duration", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    public void Validate_InfinitePoolTimeout_IsAccepted()
    {
        var options = Options(("b1", "http://b1.test"));
        options.Pools["default"].Timeout = Timeout.InfiniteTimeSpan;

        var errors = CreateValidator().Validate(options, "LoadBalancer", []);

        Assert.IsEmpty(errors);
    }

    [TestMethod]
    public void Validate_UndefinedXForwardedMode_NamesTheKeyAndTheModes()
    {
        var options = Options(("b1", "http://b1.test"));
        options.Forwarding.XForwarded = (XForwardedMode)42;

        var errors = CreateValidator().Validate(options, "LoadBalancer", []);

        Assert.AreEqual("LoadBalancer:Forwarding:XForwarded: '42' is not one of Set, Append, Remove, Off.", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    public void Validate_NegativeMaxRequestBodySize_NamesTheKey()
    {
        var options = Options(("b1", "http://b1.test"));
        options.Forwarding.MaxRequestBodySize = -1;

        var errors = CreateValidator().Validate(options, "LoadBalancer", []);

        Assert.StartsWith("LoadBalancer:Forwarding:MaxRequestBodySize:", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    public void Validate_ZeroMaxConnectionsPerServer_NamesTheKey()
    {
        var options = Options(("b1", "http://b1.test"));
        options.Connections.MaxConnectionsPerServer = 0;

        var errors = CreateValidator().Validate(options, "LoadBalancer", []);

        Assert.AreEqual("LoadBalancer:Connections:MaxConnectionsPerServer: must be at least 1.", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    public void Validate_ZeroConnectTimeout_NamesTheKey()
    {
        var options = Options(("b1", "http://b1.test"));
        options.Connections.ConnectTimeout = TimeSpan.Zero;

        var errors = CreateValidator().Validate(options, "LoadBalancer", []);

        Assert.StartsWith("LoadBalancer:Connections:ConnectTimeout:", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    public void Validate_MountedPoolMissing_NamesThePool()
    {
        var options = Options(("b1", "http://b1.test"));

        var errors = CreateValidator().Validate(options, "LoadBalancer", ["api"]);

        Assert.AreEqual("LoadBalancer:Pools:api: pool 'api' is mounted by the app but is not configured.", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    public void Validate_MountedPoolEmpty_NamesItsBackendsKey()
    {
        var options = new LoadBalancerOptions();
        options.Pools["api"] = new PoolOptions();

        var errors = CreateValidator().Validate(options, "LoadBalancer", ["api"]);

        Assert.AreEqual("LoadBalancer:Pools:api:Backends: pool 'api' is mounted by the app but has no backends.", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    public void Validate_UnmountedEmptyPool_IsAccepted()
    {
        var options = new LoadBalancerOptions();
        options.Pools["spare"] = new PoolOptions();

        var errors = CreateValidator().Validate(options, "LoadBalancer", []);

        Assert.IsEmpty(errors);
    }

    [TestMethod]
    public void Validate_SeveralProblems_ReportsEveryOne()
    {
        var options = Options(("b1", "ftp://b1.test"), ("b2", "http://b2.test"));
        options.Pools["default"].Backends["b2"].Weight = -1;
        options.Pools["default"].Strategy = "Random";
        options.Forwarding.TrustedProxies.Add("10.0.0.0/8");
        options.Forwarding.TrustedProxies.Add("not-an-ip");

        var errors = CreateValidator().Validate(options, "LoadBalancer", []);

        Assert.AreSequenceEqual(
            new[]
            {
                $"{Pool}:Strategy:",
                $"{Pool}:Backends:b1:Address:",
                $"{Pool}:Backends:b2:Weight:",
                "LoadBalancer:Forwarding:TrustedProxies:1:",
            },
            errors.Select(e => e[..(e.IndexOf(": ", StringComparison.Ordinal) + 1)]));
    }

    [TestMethod]
    public void Validate_CustomSectionPath_PrefixesErrorsWithIt()
    {
        var options = Options(("b1", "not a url"));

        var errors = CreateValidator().Validate(options, "Edge:Balancer", []);

        Assert.StartsWith("Edge:Balancer:Pools:default:Backends:b1:Address:", Assert.ContainsSingle(errors));
    }

    private static LoadBalancerOptionsValidator CreateValidator()
        => new(new LoadStrategyRegistry([new LoadStrategyRegistration(LoadStrategyNames.RoundRobin, _ => new RoundRobinStrategy())]));

    private static LoadBalancerOptions Options(params (string Name, string Address)[] backends)
    {
        var pool = new PoolOptions();
        foreach (var (name, address) in backends)
        {
            pool.Backends[name] = new BackendOptions { Address = address };
        }

        var options = new LoadBalancerOptions();
        options.Pools["default"] = pool;
        return options;
    }
}
