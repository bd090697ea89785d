using Balancing.Configuration;
using Microsoft.Extensions.Configuration;

namespace Balancing.Core.Tests.Configuration;

[TestClass]
public sealed class ConfigurationKeyValidatorTests
{
    [TestMethod]
    public void FindUnknownKeys_CompleteValidConfiguration_ReportsNothing()
    {
        var errors = FindUnknownKeys(new()
        {
            ["LoadBalancer:Pools:default:Strategy"] = "RoundRobin",
            ["LoadBalancer:Pools:default:Timeout"] = "00:00:30",
            ["LoadBalancer:Pools:default:PreserveHostHeader"] = "true",
            ["LoadBalancer:Pools:default:Backends:b1:Address"] = "http://b1.test",
            ["LoadBalancer:Pools:default:Backends:b1:Weight"] = "2",
            ["LoadBalancer:Forwarding:XForwarded"] = "Append",
            ["LoadBalancer:Forwarding:MaxRequestBodySize"] = "1000",
            ["LoadBalancer:Connections:ConnectTimeout"] = "00:00:02",
            ["LoadBalancer:Connections:MaxConnectionsPerServer"] = "10",
            ["LoadBalancer:RequestLogging:Level"] = "Warning",
        });

        Assert.IsEmpty(errors);
    }

    [TestMethod]
    public void FindUnknownKeys_KeysInOtherCase_AreAccepted()
    {
        var errors = FindUnknownKeys(new()
        {
            ["LoadBalancer:pools:default:backends:b1:ADDRESS"] = "http://b1.test",
            ["LoadBalancer:FORWARDING:xforwarded"] = "Set",
        });

        Assert.IsEmpty(errors);
    }

    [TestMethod]
    public void FindUnknownKeys_UnknownTopLevelKey_NamesItsPath()
    {
        var errors = FindUnknownKeys(new() { ["LoadBalancer:Pool:default:Backends:b1:Address"] = "http://b1.test" });

        Assert.StartsWith("LoadBalancer:Pool: unknown key;", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    public void FindUnknownKeys_UnknownTopLevelKey_ListsTheAllowedKeys()
    {
        var errors = FindUnknownKeys(new() { ["LoadBalancer:Pool"] = "default" });

        Assert.ContainsAll(new[] { "Pools", "Forwarding", "Connections", "RequestLogging" }, AllowedKeys(Assert.ContainsSingle(errors)));
    }

    [TestMethod]
    public void FindUnknownKeys_UnknownKeyInPool_NamesItsPath()
    {
        var errors = FindUnknownKeys(new()
        {
            ["LoadBalancer:Pools:default:Stratgy"] = "RoundRobin",
            ["LoadBalancer:Pools:default:Backends:b1:Address"] = "http://b1.test",
        });

        Assert.StartsWith("LoadBalancer:Pools:default:Stratgy: unknown key; the keys allowed here are ", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    public void FindUnknownKeys_UnknownKeyInPool_ListsThePoolKeys()
    {
        var errors = FindUnknownKeys(new() { ["LoadBalancer:Pools:default:Stratgy"] = "RoundRobin" });

        Assert.ContainsAll(new[] { "Strategy", "Backends", "Timeout", "PreserveHostHeader" }, AllowedKeys(Assert.ContainsSingle(errors)));
    }

    [TestMethod]
    public void FindUnknownKeys_UnknownKeyInBackend_NamesItsFullPath()
    {
        var errors = FindUnknownKeys(new() { ["LoadBalancer:Pools:default:Backends:b1:Adress"] = "http://b1.test" });

        var error = Assert.ContainsSingle(errors);
        Assert.StartsWith("LoadBalancer:Pools:default:Backends:b1:Adress: unknown key;", error);
        Assert.ContainsAll(new[] { "Address", "Weight" }, AllowedKeys(error));
    }

    [TestMethod]
    public void FindUnknownKeys_UnknownKeyInForwarding_NamesItsPath()
    {
        var errors = FindUnknownKeys(new() { ["LoadBalancer:Forwarding:TrustedProxy:0"] = "10.0.0.1" });

        Assert.StartsWith("LoadBalancer:Forwarding:TrustedProxy: unknown key;", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    public void FindUnknownKeys_SectionWhereValueExpected_NamesThePath()
    {
        var errors = FindUnknownKeys(new() { ["LoadBalancer:Pools:default:Backends:b1:Weight:value"] = "2" });

        Assert.AreEqual("LoadBalancer:Pools:default:Backends:b1:Weight: expected a single value, found a section.", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    [DataRow("LoadBalancer:Forwarding:TrustedProxies", "10.0.0.1")]
    [DataRow("LoadBalancer:Forwarding", "Append")]
    [DataRow("LoadBalancer:Pools:default", "http://b1.test")]
    public void FindUnknownKeys_ValueWhereSectionExpected_NamesThePath(string key, string value)
    {
        // Regression guard (was a bug): the binder ignores a plain value where it expects a list or an object (TrustedProxies=10.0.0.1
        // from an environment variable, say), and so does the key check: the setting is silently lost.
        var errors = FindUnknownKeys(new() { [key] = value });

        Assert.StartsWith($"{key}:", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    public void FindUnknownKeys_NullValueWhereSectionExpected_IsAccepted()
    {
        // The JSON provider turns an empty array or object ("TrustedProxies": []) into a key with a null value.
        var errors = FindUnknownKeys(new()
        {
            ["LoadBalancer:Forwarding:TrustedProxies"] = null,
            ["LoadBalancer:Pools:default:Backends:b1:Address"] = "http://b1.test",
        });

        Assert.IsEmpty(errors);
    }

    [TestMethod]
    public void FindUnknownKeys_TrustedProxiesListEntries_AreAccepted()
    {
        var errors = FindUnknownKeys(new()
        {
            ["LoadBalancer:Forwarding:TrustedProxies:0"] = "10.0.0.0/8",
            ["LoadBalancer:Forwarding:TrustedProxies:1"] = "::1",
        });

        Assert.IsEmpty(errors);
    }

    [TestMethod]
    public void FindUnknownKeys_SectionInsideListEntry_NamesTheEntry()
    {
        var errors = FindUnknownKeys(new() { ["LoadBalancer:Forwarding:TrustedProxies:0:Address"] = "10.0.0.1" });

        Assert.AreEqual("LoadBalancer:Forwarding:TrustedProxies:0: expected a single value, found a section.", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    public void FindUnknownKeys_SeveralUnknownKeys_ReportsEveryOne()
    {
        var errors = FindUnknownKeys(new()
        {
            ["LoadBalancer:Pools:a:Backends:b1:Adress"] = "http://b1.test",
            ["LoadBalancer:Pools:b:Timout"] = "00:00:01",
            ["LoadBalancer:Conections:ConnectTimeout"] = "00:00:01",
        });

        Assert.HasCount(3, errors);
    }

    [TestMethod]
    public void FindUnknownKeys_CustomPath_PrefixesErrorsWithIt()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Edge:Balancer:Pools:default:Backends:b1:Adress"] = "x" })
            .Build();
        var errors = new List<string>();

        ConfigurationKeyValidator.FindUnknownKeys(configuration.GetSection("Edge:Balancer"), typeof(LoadBalancerOptions), "Edge:Balancer", errors);

        Assert.StartsWith("Edge:Balancer:Pools:default:Backends:b1:Adress: unknown key;", Assert.ContainsSingle(errors));
    }

    private static string[] AllowedKeys(string error)
    {
        const string Marker = "the keys allowed here are ";
        var start = error.IndexOf(Marker, StringComparison.Ordinal);
        Assert.IsGreaterThanOrEqualTo(0, start, error);
        return error[(start + Marker.Length)..].TrimEnd('.').Split(", ");
    }

    private static List<string> FindUnknownKeys(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var errors = new List<string>();
        ConfigurationKeyValidator.FindUnknownKeys(configuration.GetSection("LoadBalancer"), typeof(LoadBalancerOptions), "LoadBalancer", errors);
        return errors;
    }
}
