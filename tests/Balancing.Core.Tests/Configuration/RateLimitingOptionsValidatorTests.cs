using Balancing.Configuration;

namespace Balancing.Core.Tests.Configuration;

[TestClass]
public sealed class RateLimitingOptionsValidatorTests
{
    [TestMethod]
    public void Validate_Defaults_HasNoErrors()
    {
        Assert.IsEmpty(Validate(new LoadBalancerOptions()));
    }

    [TestMethod]
    public void Validate_BadGlobalValues_ReportsEveryKey()
    {
        var options = new LoadBalancerOptions();
        var limits = options.RateLimiting;
        limits.Algorithm = (RateLimitAlgorithm)42;
        limits.PermitLimit = 0;
        limits.Window = TimeSpan.FromDays(2);
        limits.TokensPerPeriod = 0;
        limits.SegmentsPerWindow = 0;
        limits.QueueLimit = -1;
        limits.ExemptNetworks.Add("not-a-network");
        limits.IPv6PrefixLength = 0;

        var errors = Validate(options);

        foreach (var key in new[] { "Algorithm", "PermitLimit", "Window", "TokensPerPeriod", "SegmentsPerWindow", "QueueLimit", "ExemptNetworks:0", "IPv6PrefixLength" })
        {
            Assert.IsTrue(errors.Any(e => e.StartsWith($"LoadBalancer:RateLimiting:{key}: ", StringComparison.Ordinal)), $"{key}: {string.Join(" | ", errors)}");
        }
    }

    [TestMethod]
    public void Validate_SegmentsShorterThanTheHeartbeatAllows_IsAnError()
    {
        var options = new LoadBalancerOptions();
        options.RateLimiting.Window = TimeSpan.FromMilliseconds(50);
        options.RateLimiting.SegmentsPerWindow = 10;

        var error = Validate(options).Single();

        StringAssert.StartsWith(error, "LoadBalancer:RateLimiting:SegmentsPerWindow: ");
    }

    [TestMethod]
    public void Validate_RouteOverride_ReportsTheRoutesKey()
    {
        var options = new LoadBalancerOptions();
        var route = new LoadBalancerRouteOptions { Path = "/api/{**rest}", Pool = "default" };
        route.RateLimiting.PermitLimit = -5;
        route.RateLimiting.SegmentsPerWindow = 1000;
        options.Routes["api"] = route;

        var errors = Validate(options);

        CollectionAssert.Contains(errors.Select(e => e[..e.IndexOf(": ", StringComparison.Ordinal)]).ToList(), "LoadBalancer:Routes:api:RateLimiting:PermitLimit");
        Assert.IsTrue(errors.Any(e => e.StartsWith("LoadBalancer:Routes:api:RateLimiting:SegmentsPerWindow: ", StringComparison.Ordinal)),
            "1000 segments of the global 1 s window are 1 ms each: " + string.Join(" | ", errors));
    }

    [TestMethod]
    public void Validate_RouteDisablingTheLimit_HasNoErrors()
    {
        var options = new LoadBalancerOptions();
        var route = new LoadBalancerRouteOptions { Path = "/health", Pool = "default" };
        route.RateLimiting.Enabled = false;
        options.Routes["health"] = route;

        Assert.IsEmpty(Validate(options));
    }

    private static List<string> Validate(LoadBalancerOptions options)
    {
        var errors = new List<string>();
        RateLimitingOptionsValidator.Validate(options, "LoadBalancer", errors);
        return errors;
    }
}
