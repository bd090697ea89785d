using System.Net;
using Balancing.AspNetCore.Tests.Infrastructure;

namespace Balancing.AspNetCore.Tests.Discovery;

[TestClass]
public sealed class DnsDiscoveryTests
{
    [TestMethod]
    public async Task Forward_BackendNamedLocalhost_IsResolvedBySystemDnsAndReachedByAddressUnderItsName()
    {
        await using var backend = await TestBackend.StartAsync("web");
        var settings = new Dictionary<string, string?>
        {
            ["LoadBalancer:Pools:default:Backends:web:Address"] = $"http://localhost:{backend.Port}",
            ["LoadBalancer:Pools:default:Backends:web:Discovery"] = "Dns",

            // The backend listens on 127.0.0.1 only; ::1 would refuse.
            ["LoadBalancer:Pools:default:Dns:AddressFamily"] = "IPv4",
        };

        // Host start-up waits for the first answer, so the first request already finds the backend.
        await using var balancer = await BalancerHost.StartAsync(settings);
        using var response = await balancer.Client.GetAsync(new Uri("/hello", UriKind.Relative));

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual("web", await response.Content.ReadAsStringAsync());
        Assert.AreEqual($"web/127.0.0.1:{backend.Port}", balancer.Registry.GetPool("default")!.Backends.Single().Id);
        Assert.AreEqual($"localhost:{backend.Port}", backend.Received.Single().Headers["Host"].Single());
    }
}
