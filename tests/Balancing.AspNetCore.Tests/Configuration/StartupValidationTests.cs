using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Balancing.AspNetCore.Tests.Configuration;

[TestClass]
public sealed class StartupValidationTests
{
    [TestMethod]
    public async Task BadAddress_FailsStartWithTheKey()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => BalancerHost.StartAsync(new Dictionary<string, string?>
        {
            ["LoadBalancer:Pools:default:Backends:b1:Address"] = "not a url",
        }));

        StringAssert.Contains(error.Message, "LoadBalancer:Pools:default:Backends:b1:Address");
        StringAssert.Contains(error.Message, "not a url");
    }

    [TestMethod]
    public async Task UnknownStrategy_FailsStartListingKnownOnes()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => BalancerHost.StartAsync(new Dictionary<string, string?>
        {
            ["LoadBalancer:Pools:default:Strategy"] = "Fastest",
            ["LoadBalancer:Pools:default:Backends:b1:Address"] = "http://127.0.0.1:9001",
        }));

        StringAssert.Contains(error.Message, "LoadBalancer:Pools:default:Strategy");
        StringAssert.Contains(error.Message, "RoundRobin");
    }

    [TestMethod]
    public async Task UnknownKey_FailsStartWithItsPath()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => BalancerHost.StartAsync(new Dictionary<string, string?>
        {
            ["LoadBalancer:Pools:default:Backends:b1:Adress"] = "http://127.0.0.1:9001",
        }));

        StringAssert.Contains(error.Message, "LoadBalancer:Pools:default:Backends:b1:Adress");
    }

    [TestMethod]
    public async Task MountedPoolMissing_FailsStart()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => BalancerHost.StartAsync(new Dictionary<string, string?>
        {
            ["LoadBalancer:Pools:other:Backends:b1:Address"] = "http://127.0.0.1:9001",
        }));

        StringAssert.Contains(error.Message, "LoadBalancer:Pools:default");
    }

    [TestMethod]
    public async Task MountedPoolEmpty_FailsStart()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => BalancerHost.StartAsync(new Dictionary<string, string?>
        {
            ["LoadBalancer:Pools:default:Strategy"] = "RoundRobin",
        }));

        StringAssert.Contains(error.Message, "LoadBalancer:Pools:default:Backends");
    }

    [TestMethod]
    public async Task SeveralErrors_AreAllReported()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => BalancerHost.StartAsync(new Dictionary<string, string?>
        {
            ["LoadBalancer:Pools:default:Backends:b1:Address"] = "ftp://127.0.0.1",
            ["LoadBalancer:Pools:default:Backends:b2:Address"] = "http://127.0.0.1:9002",
            ["LoadBalancer:Pools:default:Backends:b2:Weight"] = "-1",
            ["LoadBalancer:Forwarding:TrustedProxies:0"] = "10.0.0.0/99",
        }));

        StringAssert.Contains(error.Message, "Backends:b1:Address");
        StringAssert.Contains(error.Message, "Backends:b2:Weight");
        StringAssert.Contains(error.Message, "Forwarding:TrustedProxies:0");
    }

    [TestMethod]
    public async Task UnconvertibleValue_FailsStartWithTheKey()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => BalancerHost.StartAsync(new Dictionary<string, string?>
        {
            ["LoadBalancer:Pools:default:Backends:b1:Address"] = "http://127.0.0.1:9001",
            ["LoadBalancer:Pools:default:Timeout"] = "soon",
        }));

        StringAssert.Contains(error.Message, "LoadBalancer:Pools:default:Timeout");
    }
}
