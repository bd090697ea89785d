using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Balancing.AspNetCore.Tests.Routing;

/// <summary>Invalid routes stop start-up with the full key of each problem.</summary>
[TestClass]
public sealed class RouteStartupValidationTests
{
    [TestMethod]
    public async Task UnknownPool_FailsStartNamingTheKeyAndListingThePools()
    {
        var error = await StartAsync(new()
        {
            ["LoadBalancer:Routes:api:Path"] = "/api/{**rest}",
            ["LoadBalancer:Routes:api:Pool"] = "apii",
        });

        StringAssert.Contains(error.Message, "LoadBalancer:Routes:api:Pool: unknown pool 'apii'; the configured pools are api, default.");
    }

    [TestMethod]
    public async Task MissingPathAndPool_FailStartNamingBothKeys()
    {
        var error = await StartAsync(new() { ["LoadBalancer:Routes:api:Order"] = "1" });

        StringAssert.Contains(error.Message, "LoadBalancer:Routes:api:Path: is required");
        StringAssert.Contains(error.Message, "LoadBalancer:Routes:api:Pool: is required; the configured pools are api, default.");
    }

    [TestMethod]
    public async Task UnparsableTemplate_FailsStartNamingThePath()
    {
        var error = await StartAsync(new()
        {
            ["LoadBalancer:Routes:api:Path"] = "/api/{rest",
            ["LoadBalancer:Routes:api:Pool"] = "api",
        });

        StringAssert.Contains(error.Message, "LoadBalancer:Routes:api:Path: '/api/{rest' is not a valid route template");
    }

    [TestMethod]
    public async Task UnknownConstraint_FailsStartNamingThePath()
    {
        var error = await StartAsync(new()
        {
            ["LoadBalancer:Routes:api:Path"] = "/api/{id:integer}",
            ["LoadBalancer:Routes:api:Pool"] = "api",
        });

        StringAssert.Contains(error.Message, "LoadBalancer:Routes:api:Path: '/api/{id:integer}' has a constraint that cannot be used");
    }

    [TestMethod]
    public async Task BadHostPattern_FailsStartNamingItsIndex()
    {
        var error = await StartAsync(new()
        {
            ["LoadBalancer:Routes:api:Path"] = "/api/{**rest}",
            ["LoadBalancer:Routes:api:Pool"] = "api",
            ["LoadBalancer:Routes:api:Hosts:0"] = "example.com",
            ["LoadBalancer:Routes:api:Hosts:1"] = "example.com:http",
        });

        StringAssert.Contains(error.Message, "LoadBalancer:Routes:api:Hosts:1: 'example.com:http' is not a host pattern");
        Assert.DoesNotContain("Hosts:0", error.Message);
    }

    [TestMethod]
    public async Task TwoRoutesWithTheSamePathHostsAndOrder_FailStartAsAConflict()
    {
        var error = await StartAsync(new()
        {
            ["LoadBalancer:Routes:a:Path"] = "/items/{id}",
            ["LoadBalancer:Routes:a:Pool"] = "api",
            ["LoadBalancer:Routes:b:Path"] = "/Items/{key}",
            ["LoadBalancer:Routes:b:Pool"] = "default",
        });

        StringAssert.Contains(error.Message, "LoadBalancer:Routes:b: has the same Path, Hosts and Order as route 'a'");
    }

    [TestMethod]
    public async Task UnknownKeyInARoute_FailsStartWithItsPath()
    {
        var error = await StartAsync(new()
        {
            ["LoadBalancer:Routes:api:Path"] = "/api/{**rest}",
            ["LoadBalancer:Routes:api:Pool"] = "api",
            ["LoadBalancer:Routes:api:Host"] = "example.com",
        });

        StringAssert.Contains(error.Message, "LoadBalancer:Routes:api:Host: unknown key; the keys allowed here are Path, Hosts, Pool, Order, RateLimiting, Caching.");
    }

    [TestMethod]
    public async Task NoRoutesAndNoDefaultPool_FailsStartNamingThePool()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => BalancerHost.StartAsync(new Dictionary<string, string?>
        {
            ["LoadBalancer:Pools:api:Backends:b1:Address"] = "http://127.0.0.1:9001",
        }));

        StringAssert.Contains(error.Message, "LoadBalancer:Pools:default: pool 'default' is not configured and there are no routes");
    }

    /// <summary>Starts a balancer with pools <c>api</c> and <c>default</c> plus <paramref name="routes"/>; returns why it failed.</summary>
    private static Task<OptionsValidationException> StartAsync(Dictionary<string, string?> routes)
    {
        routes["LoadBalancer:Pools:api:Backends:b1:Address"] = "http://127.0.0.1:9001";
        routes["LoadBalancer:Pools:default:Backends:b1:Address"] = "http://127.0.0.1:9002";
        return Assert.ThrowsAsync<OptionsValidationException>(() => BalancerHost.StartAsync(routes));
    }
}
