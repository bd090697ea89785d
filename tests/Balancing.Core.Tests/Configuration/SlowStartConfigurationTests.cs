using Balancing.Core.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Balancing.Core.Tests.Configuration;

[TestClass]
public sealed class SlowStartConfigurationTests
{
    private const string Key = "LoadBalancer:Pools:default:SlowStart";

    [TestMethod]
    public void SlowStart_NotSet_IsOff()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());

        Assert.AreEqual(TimeSpan.Zero, balancer.Pool().Options.SlowStart);
        Assert.AreEqual(TimeSpan.Zero, balancer.Pool().Weights.Window);
    }

    [TestMethod]
    public void SlowStart_Duration_ReachesThePoolsWeights()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool().With(Key, "00:00:30"));

        Assert.AreEqual(TimeSpan.FromSeconds(30), balancer.Pool().Weights.Window);
    }

    [TestMethod]
    [DataRow("-00:00:01")]
    [DataRow("30.00:00:00")]
    public void SlowStart_OutOfRange_FailsStartUpNamingTheKey(string value)
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool().With(Key, value));

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.Contains($"{Key}: must be from 00:00:00 (off) to 24.20:31:23.6470000, not {TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture)}.", exception.Message);
    }

    [TestMethod]
    public void SlowStart_NotADuration_FailsStartUpNamingTheKey()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool().With(Key, "soon"));

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.Contains($"{Key}: 'soon' is not a valid duration", exception.Message);
    }

    [TestMethod]
    public async Task SlowStart_ChangedOnReload_AppliesToTheSamePool()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());
        var pool = balancer.Pool();

        var result = await balancer.ChangeAndWaitAsync(Settings.DefaultPool().With(Key, "00:01:00"));

        Assert.IsTrue(result.Applied);
        Assert.AreSame(pool, balancer.Pool());
        Assert.AreEqual(TimeSpan.FromMinutes(1), pool.Weights.Window);
    }
}
