using System.Net;
using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Balancing.AspNetCore.Tests.Builder;

[TestClass]
public sealed class RegistrationTests
{
    [TestMethod]
    public void UseLoadBalancer_WithoutAddLoadBalancer_ThrowsNamingIt()
    {
        var app = WebApplication.CreateSlimBuilder().Build();

        var error = Assert.ThrowsExactly<InvalidOperationException>(() => app.UseLoadBalancer());

        StringAssert.Contains(error.Message, "AddLoadBalancer");
    }

    [TestMethod]
    public void MapLoadBalancer_WithoutAddLoadBalancer_ThrowsNamingIt()
    {
        var app = WebApplication.CreateSlimBuilder().Build();

        var error = Assert.ThrowsExactly<InvalidOperationException>(() => app.MapLoadBalancer("/api/{**rest}", "api"));

        StringAssert.Contains(error.Message, "AddLoadBalancer");
    }

    [TestMethod]
    public async Task MapLoadBalancer_RoutesMatchingPathsToTheNamedPool()
    {
        await using var web = await TestBackend.StartAsync("web");
        await using var api = await TestBackend.StartAsync("api");
        var settings = BalancerHost.PoolSettings("default", web);
        foreach (var (key, value) in BalancerHost.PoolSettings("api", api))
        {
            settings[key] = value;
        }

        await using var balancer = await BalancerHost.StartAsync(settings, app =>
        {
            app.MapLoadBalancer("/api/{**rest}", "api");
            app.UseLoadBalancer();
        });

        Assert.AreEqual("api", await balancer.Client.GetStringAsync("/api/orders"));
        Assert.AreEqual("web", await balancer.Client.GetStringAsync("/index.html"));
        Assert.AreEqual("/api/orders", api.Received.Single().RawTarget);
    }

    [TestMethod]
    public async Task UseLoadBalancer_LeavesEndpointsMappedByTheAppAlone()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend), app =>
        {
            app.MapGet("/local", () => "served locally");
            app.UseLoadBalancer();
        });

        Assert.AreEqual("served locally", await balancer.Client.GetStringAsync("/local"));
        Assert.AreEqual("b1", await balancer.Client.GetStringAsync("/elsewhere"));
        Assert.AreEqual(1, backend.Received.Count);
    }

    [TestMethod]
    public async Task MapLoadBalancer_ReturnsConventionBuilderThatAcceptsConventions()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend), app =>
        {
            app.MapLoadBalancer("/only-on-host/{**rest}", "default").RequireHost("allowed.example");
        });

        using var wrongHost = await balancer.Client.GetAsync("/only-on-host/x");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/only-on-host/x");
        request.Headers.Host = "allowed.example";
        using var rightHost = await balancer.Client.SendAsync(request);

        Assert.AreEqual(HttpStatusCode.NotFound, wrongHost.StatusCode);
        Assert.AreEqual(HttpStatusCode.OK, rightHost.StatusCode);
    }

    [TestMethod]
    public async Task AddLoadBalancer_CodeOnlyOptions_Forward()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddLoadBalancer(options =>
            options.Pools["default"] = new PoolOptions { Backends = { ["b1"] = new BackendOptions { Address = backend.Address } } });
        await using var app = builder.Build();
        app.UseLoadBalancer();
        await app.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        Assert.AreEqual("b1", await client.GetStringAsync("/"));
    }

    [TestMethod]
    public async Task AddLoadBalancer_ExplicitSection_Binds()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Proxy:Pools:default:Backends:b1:Address"] = backend.Address,
        });
        builder.Services.AddLoadBalancer(builder.Configuration.GetSection("Proxy"));
        await using var app = builder.Build();
        app.UseLoadBalancer();
        await app.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        Assert.AreEqual("b1", await client.GetStringAsync("/"));
    }

    [TestMethod]
    public void AddLoadBalancer_ExplicitSection_ErrorsNameThatSection()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Proxy:Pools:default:Backends:b1:Address"] = "nope",
        });
        builder.Services.AddLoadBalancer(builder.Configuration.GetSection("Proxy"));
        var app = builder.Build();

        var error = Assert.ThrowsExactly<Microsoft.Extensions.Options.OptionsValidationException>(() => app.UseLoadBalancer());

        StringAssert.Contains(error.Message, "Proxy:Pools:default:Backends:b1:Address");
    }
}
