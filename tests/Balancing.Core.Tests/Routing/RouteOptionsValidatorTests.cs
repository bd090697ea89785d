using Balancing.Core.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Balancing.Core.Tests.Routing;

/// <summary>Route rules that hold without a web host, through the engine as a worker service registers it.</summary>
[TestClass]
public sealed class RouteOptionsValidatorTests
{
    [TestMethod]
    public void Registry_RouteProblems_AreAllReportedWithTheirKeys()
    {
        var settings = Settings.DefaultPool()
            .With("LoadBalancer:Routes:a:Path", "/a/{**rest}")
            .With("LoadBalancer:Routes:a:Pool", "nope")
            .With("LoadBalancer:Routes:a:Hosts:0", "*.ok.test")
            .With("LoadBalancer:Routes:a:Hosts:1", "bad host")
            .With("LoadBalancer:Routes:b:Order", "2");
        using var balancer = TestBalancer.Create(settings);

        var error = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        CollectionAssert.AreEquivalent(
            new[]
            {
                "LoadBalancer:Routes:a:Pool: unknown pool 'nope'; the configured pools are default.",
                "LoadBalancer:Routes:a:Hosts:1: 'bad host' is not a host pattern such as example.com, *.example.com, example.com:8080 or *:8080.",
                "LoadBalancer:Routes:b:Path: is required, for example /api/{**rest} or /{**rest} for every path.",
                "LoadBalancer:Routes:b:Pool: is required; the configured pools are default.",
            },
            error.Failures.ToArray());
    }

    [TestMethod]
    public void Registry_HostsWrittenAsOneValue_IsReportedAsNotAList()
    {
        var settings = Settings.DefaultPool()
            .With("LoadBalancer:Routes:a:Path", "/{**rest}")
            .With("LoadBalancer:Routes:a:Pool", "default")
            .With("LoadBalancer:Routes:a:Hosts", "example.com");
        using var balancer = TestBalancer.Create(settings);

        var error = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        StringAssert.Contains(error.Message, "LoadBalancer:Routes:a:Hosts: expected a section (or a list, written LoadBalancer:Routes:a:Hosts:0");
    }

    [TestMethod]
    public async Task Reload_RouteToAPoolTheSameChangeRemoves_IsRejected()
    {
        var settings = Settings.DefaultPool()
            .With(Settings.BackendKey("api", "a1"), "http://a1.test")
            .With("LoadBalancer:Routes:api:Path", "/api/{**rest}")
            .With("LoadBalancer:Routes:api:Pool", "api");
        using var balancer = TestBalancer.Create(settings);
        var before = balancer.Registry.Options;

        var result = await balancer.ChangeAndWaitAsync(settings.Without("LoadBalancer:Pools:api"));

        Assert.IsFalse(result.Applied);
        Assert.AreEqual("LoadBalancer:Routes:api:Pool: unknown pool 'api'; the configured pools are default.", result.Errors.Single());
        Assert.AreSame(before, balancer.Registry.Options);
    }
}
