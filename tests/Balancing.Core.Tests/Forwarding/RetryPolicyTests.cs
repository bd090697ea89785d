using Balancing.Configuration;
using Balancing.Forwarding;

namespace Balancing.Core.Tests.Forwarding;

[TestClass]
public sealed class RetryPolicyTests
{
    [TestMethod]
    [DataRow("GET", true)]
    [DataRow("HEAD", true)]
    [DataRow("OPTIONS", true)]
    [DataRow("TRACE", true)]
    [DataRow("PUT", true)]
    [DataRow("DELETE", true)]
    [DataRow("POST", false)]
    [DataRow("PATCH", false)]
    [DataRow("CONNECT", false)]
    public void IsIdempotent_FollowsRfc9110(string method, bool expected)
        => Assert.AreEqual(expected, RetryPolicy.IsIdempotent(new HttpMethod(method)));

    [TestMethod]
    public void Create_DisabledOrSingleAttempt_ReturnsNull()
    {
        Assert.IsNull(RetryPolicy.Create(new RetryOptions { Enabled = false }, TimeProvider.System));
        Assert.IsNull(RetryPolicy.Create(new RetryOptions { MaxAttempts = 1 }, TimeProvider.System));
        Assert.IsNotNull(RetryPolicy.Create(new RetryOptions(), TimeProvider.System));
    }

    [TestMethod]
    [DataRow("502,503,504", true)]
    [DataRow(" 500 , 502 ", true)]
    [DataRow("", true)]
    [DataRow("5xx", false)]
    [DataRow("600", false)]
    [DataRow("99", false)]
    public void StatusCodes_EmptyAllowedForRetries_CommaSeparatedCodes(string value, bool valid)
        => Assert.AreEqual(valid, Balancing.Health.HealthStatusCodes.TryParse(value, out _, allowEmpty: true));

    [TestMethod]
    public void Validate_BadRetrySettings_NameEachKey()
    {
        var options = new LoadBalancerOptions();
        var pool = new PoolOptions { Backends = { ["b1"] = new BackendOptions { Address = "http://b1.test" } } };
        pool.Retry.MaxAttempts = 0;
        pool.Retry.BudgetRatio = 2;
        pool.Retry.RetryOnStatusCodes = "5xx";
        pool.Retry.Delay = TimeSpan.FromSeconds(2);
        pool.Retry.MaxDelay = TimeSpan.FromSeconds(1);
        options.Pools["default"] = pool;
        var validator = new LoadBalancerOptionsValidator(new Balancing.Strategies.LoadStrategyRegistry(
            [new Balancing.Strategies.LoadStrategyRegistration(LoadStrategyNames.RoundRobin, _ => new Balancing.Strategies.RoundRobinStrategy())]));

        var errors = string.Join("\n", validator.Validate(options, "LoadBalancer", []));

        Assert.Contains("LoadBalancer:Pools:default:Retry:MaxAttempts", errors);
        Assert.Contains("LoadBalancer:Pools:default:Retry:BudgetRatio", errors);
        Assert.Contains("LoadBalancer:Pools:default:Retry:RetryOnStatusCodes", errors);
        Assert.Contains("LoadBalancer:Pools:default:Retry:MaxDelay", errors);
    }
}
