using System.Net;
using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Balancing.AspNetCore.Tests.Routing;

/// <summary>Routes from configuration, through a real balancer to real backends.</summary>
[TestClass]
public sealed class RouteForwardingTests
{
    [TestMethod]
    public async Task UseLoadBalancer_TwoPoolsAndACatchAll_EachRequestReachesItsPoolWithItsWholePath()
    {
        await using var api = await TestBackend.StartAsync("api");
        await using var statics = await TestBackend.StartAsync("static");
        await using var web = await TestBackend.StartAsync("web");
        var settings = Pools(("api", api), ("static", statics), ("default", web));
        Route(settings, "api", "/api/{**rest}", "api");
        Route(settings, "static", "/static/{*path}", "static");
        Route(settings, "rest", "/{**rest}", "default");
        await using var balancer = await BalancerHost.StartAsync(settings);

        var answers = new Dictionary<string, string>();
        foreach (var target in new[] { "/api/users/1?x=%2F", "/api", "/static/css/site.css", "/about", "/apix", "/" })
        {
            answers[target] = await balancer.Client.GetStringAsync(target);
        }

        Assert.AreEqual("api|api|static|web|web|web", string.Join('|', answers.Values));
        CollectionAssert.AreEqual(new[] { "/api/users/1?x=%2F", "/api" }, api.Received.Select(r => r.RawTarget).ToArray(), "the path is forwarded whole, prefix included");
        Assert.AreEqual("/static/css/site.css", statics.Received.Single().RawTarget);
    }

    [TestMethod]
    public async Task UseLoadBalancer_HostSpecificRoute_WinsForItsHostOnly()
    {
        await using var tenant = await TestBackend.StartAsync("tenant");
        await using var wild = await TestBackend.StartAsync("wild");
        await using var web = await TestBackend.StartAsync("web");
        var settings = Pools(("tenant", tenant), ("wild", wild), ("default", web));
        Route(settings, "all", "/{**rest}", "default");
        Route(settings, "tenant", "/{**rest}", "tenant", hosts: "tenant.example.com");
        Route(settings, "wild", "/{**rest}", "wild", hosts: "*.example.com");
        await using var balancer = await BalancerHost.StartAsync(settings);

        var answers = new List<string>();
        foreach (var host in new[] { "tenant.example.com", "TENANT.Example.com:8080", "shop.example.com", "example.com", "other.test" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/page") { Headers = { Host = host } };
            using var response = await balancer.Client.SendAsync(request);
            answers.Add(await response.Content.ReadAsStringAsync());
        }

        Assert.AreEqual("tenant|tenant|wild|web|web", string.Join('|', answers));
    }

    [TestMethod]
    public async Task UseLoadBalancer_LowerOrder_WinsOverAMoreSpecificTemplate()
    {
        await using var api = await TestBackend.StartAsync("api");
        await using var web = await TestBackend.StartAsync("web");
        var settings = Pools(("api", api), ("default", web));
        Route(settings, "api", "/api/{**rest}", "api");
        Route(settings, "maintenance", "/{**rest}", "default", order: -1);
        await using var balancer = await BalancerHost.StartAsync(settings);

        Assert.AreEqual("web", await balancer.Client.GetStringAsync("/api/users"));
        Assert.IsEmpty(api.Received);
    }

    [TestMethod]
    public async Task UseLoadBalancer_NoRouteMatches_Answers404ProblemAndNoBackendIsCalled()
    {
        await using var api = await TestBackend.StartAsync("api");
        var settings = Pools(("api", api));
        Route(settings, "api", "/api/{**rest}", "api");
        await using var balancer = await BalancerHost.StartAsync(settings);

        using var response = await balancer.Client.GetAsync("/other/page");

        Assert.AreEqual(HttpStatusCode.NotFound, response.StatusCode);
        Assert.AreEqual("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        StringAssert.Contains(await response.Content.ReadAsStringAsync(), "\"status\":404");
        Assert.IsEmpty(api.Received);
        Assert.IsTrue(balancer.Logs.GetSnapshot().Any(r => r.Id.Name == "NoRouteMatched"));
    }

    [TestMethod]
    public async Task UseLoadBalancer_AppEndpointsAndMapLoadBalancer_RunBeforeTheRoutes()
    {
        await using var api = await TestBackend.StartAsync("api");
        await using var statics = await TestBackend.StartAsync("static");
        await using var web = await TestBackend.StartAsync("web");
        var settings = Pools(("api", api), ("static", statics), ("default", web));
        Route(settings, "api", "/api/{**rest}", "api");
        Route(settings, "rest", "/{**rest}", "default");
        await using var balancer = await BalancerHost.StartAsync(settings, app =>
        {
            app.MapGet("/hello", () => "local");
            app.MapLoadBalancer("/special/{**rest}", "static");
            app.UseLoadBalancer();
        });

        var answers = new List<string>();
        foreach (var target in new[] { "/hello", "/special/x", "/api/x", "/x" })
        {
            answers.Add(await balancer.Client.GetStringAsync(target));
        }

        Assert.AreEqual("local|static|api|web", string.Join('|', answers));
        Assert.AreEqual("/special/x", statics.Received.Single().RawTarget);
    }

    [TestMethod]
    public async Task UseLoadBalancerWithAPool_RequestNoRouteMatches_GoesToThatPool()
    {
        await using var api = await TestBackend.StartAsync("api");
        await using var web = await TestBackend.StartAsync("web");
        var settings = Pools(("api", api), ("web", web));
        Route(settings, "api", "/api/{**rest}", "api");
        await using var balancer = await BalancerHost.StartAsync(settings, app => app.UseLoadBalancer("web"));

        Assert.AreEqual("api", await balancer.Client.GetStringAsync("/api/x"));
        Assert.AreEqual("web", await balancer.Client.GetStringAsync("/other"));
    }

    [TestMethod]
    public async Task UseLoadBalancer_ConstrainedRoute_MatchesOnlyValuesItsConstraintAccepts()
    {
        await using var orders = await TestBackend.StartAsync("orders");
        await using var web = await TestBackend.StartAsync("web");
        var settings = Pools(("orders", orders), ("default", web));
        Route(settings, "order", "/orders/{id:int}", "orders");
        Route(settings, "rest", "/{**rest}", "default");
        await using var balancer = await BalancerHost.StartAsync(settings);

        Assert.AreEqual("orders", await balancer.Client.GetStringAsync("/orders/42"));
        Assert.AreEqual("web", await balancer.Client.GetStringAsync("/orders/abc"));
    }

    [TestMethod]
    public async Task UseLoadBalancer_RoutesWithoutADefaultPool_StartAndServe()
    {
        await using var api = await TestBackend.StartAsync("api");
        var settings = Pools(("api", api));
        Route(settings, "all", "/{**rest}", "api");

        await using var balancer = await BalancerHost.StartAsync(settings);

        Assert.AreEqual("api", await balancer.Client.GetStringAsync("/anything"));
    }

    internal static Dictionary<string, string?> Pools(params (string Pool, TestBackend Backend)[] pools)
    {
        var settings = new Dictionary<string, string?>();
        foreach (var (pool, backend) in pools)
        {
            settings[$"LoadBalancer:Pools:{pool}:Backends:{backend.Name}:Address"] = backend.Address;
        }

        return settings;
    }

    internal static void Route(Dictionary<string, string?> settings, string name, string path, string pool, int? order = null, params string[] hosts)
    {
        var key = $"LoadBalancer:Routes:{name}";
        settings[$"{key}:Path"] = path;
        settings[$"{key}:Pool"] = pool;
        if (order is { } value)
        {
            settings[$"{key}:Order"] = value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        for (var i = 0; i < hosts.Length; i++)
        {
            settings[$"{key}:Hosts:{i}"] = hosts[i];
        }
    }
}
