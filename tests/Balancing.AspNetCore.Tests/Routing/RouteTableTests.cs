using Balancing.AspNetCore.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Balancing.AspNetCore.Tests.Routing;

/// <summary>The compiled route table called directly: which route wins, and what compiling reports.</summary>
[TestClass]
public sealed class RouteTableTests
{
    private static readonly ParameterPolicyFactory Policies = new ServiceCollection()
        .AddLogging()
        .AddRoutingCore()
        .BuildServiceProvider()
        .GetRequiredService<ParameterPolicyFactory>();

    [TestMethod]
    public void Match_LiteralBeatsParameterBeatsCatchAll()
    {
        var table = Compile(
            ("all", "/api/{**rest}", "catchall", 0, []),
            ("param", "/api/{name}", "parameter", 0, []),
            ("literal", "/api/health", "literal", 0, []));

        Assert.AreEqual("literal", table.Match(Request("/api/health")));
        Assert.AreEqual("parameter", table.Match(Request("/api/users")));
        Assert.AreEqual("catchall", table.Match(Request("/api/users/1")));
    }

    [TestMethod]
    public void Match_CatchAll_MatchesItsPrefixAloneButNotALongerWord()
    {
        var table = Compile(("api", "/api/{**rest}", "api", 0, []));

        Assert.AreEqual("api", table.Match(Request("/api")));
        Assert.AreEqual("api", table.Match(Request("/API/")));
        Assert.IsNull(table.Match(Request("/apix")));
    }

    [TestMethod]
    public void Match_OrderComesBeforePrecedence()
    {
        var table = Compile(
            ("literal", "/api/health", "literal", 0, []),
            ("all", "/{**rest}", "all", -5, []));

        Assert.AreEqual("all", table.Match(Request("/api/health")));
    }

    [TestMethod]
    public void Match_PathPrecedenceComesBeforeHost()
    {
        var table = Compile(
            ("api", "/api/{**rest}", "api", 0, []),
            ("tenant", "/{**rest}", "tenant", 0, ["a.example.com"]));

        Assert.AreEqual("api", table.Match(Request("/api/x", "a.example.com")));
        Assert.AreEqual("tenant", table.Match(Request("/x", "a.example.com")));
        Assert.IsNull(table.Match(Request("/x", "b.example.com")));
    }

    [TestMethod]
    public void Match_SameTemplate_TheMostSpecificMatchingHostPatternWins()
    {
        // "a" is listed first and has an exact host too, but for shop.example.com it matches only by its wildcard.
        var table = Compile(
            ("a", "/{**rest}", "a", 0, ["*.example.com", "other.test"]),
            ("b", "/{**rest}", "b", 0, ["shop.example.com"]),
            ("c", "/{**rest}", "c", 0, ["shop.example.com:8443"]),
            ("d", "/{**rest}", "d", 0, []));

        Assert.AreEqual("b", table.Match(Request("/", "shop.example.com")));
        Assert.AreEqual("c", table.Match(Request("/", "shop.example.com:8443")));
        Assert.AreEqual("a", table.Match(Request("/", "blog.example.com")));
        Assert.AreEqual("d", table.Match(Request("/", "example.com")));
    }

    [TestMethod]
    public void Match_HostWithoutAPortInTheHeader_UsesTheSchemesDefaultPort()
    {
        var table = Compile(("tls", "/{**rest}", "tls", 0, ["example.com:443"]));

        Assert.AreEqual("tls", table.Match(Request("/", "example.com", "https")));
        Assert.IsNull(table.Match(Request("/", "example.com", "http")));
    }

    [TestMethod]
    public void Match_ConstraintRejectsTheValue_RouteDoesNotMatch()
    {
        var table = Compile(
            ("order", "/orders/{id:int:min(1)}", "orders", 0, []),
            ("rest", "/{**rest}", "web", 0, []));

        Assert.AreEqual("orders", table.Match(Request("/orders/7")));
        Assert.AreEqual("web", table.Match(Request("/orders/0")));
        Assert.AreEqual("web", table.Match(Request("/orders/seven")));
    }

    [TestMethod]
    public void Compile_SameTemplateHostsAndOrder_IsReportedOnce()
    {
        var errors = new List<string>();
        Compile(errors,
            ("a", "/items/{id}", "p", 0, ["x.test", "y.test"]),
            ("b", "/items/{key}", "p", 0, ["Y.test", "x.test"]),
            ("c", "/items/{key}", "p", 1, ["x.test", "y.test"]),
            ("d", "/items/{key:int}", "p", 0, ["x.test", "y.test"]));

        Assert.AreEqual("LoadBalancer:Routes:b: has the same Path, Hosts and Order as route 'a', so one of them could never match; change one of them, or give one a lower Order to make it win.", errors.Single());
    }

    [TestMethod]
    public void Compile_BadTemplate_IsReportedWithItsKeyAndTheRestStillCompiles()
    {
        var errors = new List<string>();
        var table = Compile(errors,
            ("bad", "/a/{b}/{b}", "p", 0, []),
            ("good", "/good", "p", 0, []));

        StringAssert.StartsWith(errors.Single(), "LoadBalancer:Routes:bad:Path: '/a/{b}/{b}' is not a valid route template: ");
        Assert.AreEqual("good", table.Routes.Single().Name);
    }

    private static RouteTable Compile(params (string Name, string Path, string Pool, int Order, string[] Hosts)[] routes)
    {
        var errors = new List<string>();
        var table = Compile(errors, routes);
        Assert.IsEmpty(errors, string.Join("; ", errors));
        return table;
    }

    private static RouteTable Compile(List<string> errors, params (string Name, string Path, string Pool, int Order, string[] Hosts)[] routes)
    {
        var options = new LoadBalancerOptions();
        foreach (var (name, path, pool, order, hosts) in routes)
        {
            var route = new LoadBalancerRouteOptions { Path = path, Pool = pool, Order = order };
            route.Hosts.AddRange(hosts);
            options.Routes[name] = route;
        }

        return RouteTable.Compile(options, "LoadBalancer", Policies, errors);
    }

    private static DefaultHttpContext Request(string path, string host = "balancer.test", string scheme = "http")
    {
        var context = new DefaultHttpContext();
        context.Request.Scheme = scheme;
        context.Request.Host = HostString.FromUriComponent(host);
        context.Request.Path = path;
        return context;
    }
}
