using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Balancing.AspNetCore.Tests.Forwarding;

[TestClass]
public sealed class RequestLoggingTests
{
    [TestMethod]
    public async Task ForwardedRequest_WritesOneStructuredLine()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend));

        using var response = await balancer.Client.GetAsync("/orders/42?x=1");

        var lines = balancer.Logs.GetSnapshot().Where(r => r.Id.Name == "RequestForwarded").ToList();
        Assert.HasCount(1, lines);
        var line = lines[0];
        Assert.AreEqual(LogLevel.Information, line.Level);
        var state = line.StructuredState!.ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.AreEqual("GET", state["Method"]);
        Assert.AreEqual("/orders/42", state["Path"]);
        Assert.AreEqual("default", state["Pool"]);
        Assert.AreEqual("b1", state["Backend"]);
        Assert.AreEqual("200", state["StatusCode"]);
        Assert.IsTrue(double.Parse(state["ElapsedMilliseconds"]!, System.Globalization.CultureInfo.InvariantCulture) >= 0);
        Assert.IsFalse(string.IsNullOrEmpty(state["TraceId"]));
    }

    [TestMethod]
    public async Task LevelFromConfiguration_IsUsed()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        var settings = BalancerHost.PoolSettings(backend);
        settings["LoadBalancer:RequestLogging:Level"] = "Debug";
        await using var balancer = await BalancerHost.StartAsync(settings);

        using var response = await balancer.Client.GetAsync("/");

        Assert.AreEqual(LogLevel.Debug, balancer.Logs.GetSnapshot().Single(r => r.Id.Name == "RequestForwarded").Level);
    }

    [TestMethod]
    public async Task LevelNone_WritesNoLine()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        var settings = BalancerHost.PoolSettings(backend);
        settings["LoadBalancer:RequestLogging:Level"] = "None";
        await using var balancer = await BalancerHost.StartAsync(settings);

        using var response = await balancer.Client.GetAsync("/");

        Assert.AreEqual(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.IsFalse(balancer.Logs.GetSnapshot().Any(r => r.Id.Name == "RequestForwarded"));
    }

    [TestMethod]
    public async Task FailedRequest_IsLoggedAsWarningWithTheError()
    {
        await using var balancer = await BalancerHost.StartAsync(new Dictionary<string, string?>
        {
            ["LoadBalancer:Pools:default:Backends:gone:Address"] = "http://127.0.0.1:1",
        });

        using var response = await balancer.Client.GetAsync("/x");

        var line = balancer.Logs.GetSnapshot().Single(r => r.Id.Name == "ForwardFailed");
        Assert.AreEqual(LogLevel.Warning, line.Level);
        var state = line.StructuredState!.ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.AreEqual("ConnectFailed", state["Error"]);
        Assert.AreEqual("502", state["StatusCode"]);
        Assert.AreEqual("gone", state["Backend"]);
    }
}
