using Balancing.Core.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Balancing.Core.Tests.Statistics;

/// <summary>The <c>LoadBalancer:Monitoring</c> settings, bound and checked as an app's configuration is.</summary>
[TestClass]
public sealed class MonitoringOptionsTests
{
    private const string Section = "LoadBalancer:Monitoring";

    [TestMethod]
    public void Bind_Defaults_AreDocumentedValues()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool());

        var monitoring = balancer.Registry.Options.Monitoring;

        Assert.AreEqual((0.1, TimeSpan.FromMinutes(1), 20), (monitoring.ErrorRateThreshold, monitoring.ErrorRateWindow, monitoring.MinimumRequests));
    }

    [TestMethod]
    public void Bind_EverySetting_IsRead()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool()
            .With($"{Section}:ErrorRateThreshold", "0.25")
            .With($"{Section}:ErrorRateWindow", "00:00:10")
            .With($"{Section}:MinimumRequests", "5"));

        var monitoring = balancer.Registry.Options.Monitoring;

        Assert.AreEqual((0.25, TimeSpan.FromSeconds(10), 5), (monitoring.ErrorRateThreshold, monitoring.ErrorRateWindow, monitoring.MinimumRequests));
    }

    [TestMethod]
    [DataRow("ErrorRateThreshold", "0", "ErrorRateThreshold: must be above 0 and at most 1, not 0.")]
    [DataRow("ErrorRateThreshold", "1.5", "ErrorRateThreshold: must be above 0 and at most 1, not 1.5.")]
    [DataRow("ErrorRateThreshold", "NaN", "ErrorRateThreshold: must be above 0 and at most 1, not NaN.")]
    [DataRow("ErrorRateWindow", "00:00:00", "ErrorRateWindow: must be a whole number of seconds from 00:00:01 to 00:01:00, not 00:00:00.")]
    [DataRow("ErrorRateWindow", "00:01:01", "ErrorRateWindow: must be a whole number of seconds from 00:00:01 to 00:01:00, not 00:01:01.")]
    [DataRow("ErrorRateWindow", "00:00:02.5", "ErrorRateWindow: must be a whole number of seconds from 00:00:01 to 00:01:00, not 00:00:02.5000000.")]
    [DataRow("MinimumRequests", "0", "MinimumRequests: must be at least 1, not 0.")]
    public void Validate_BadValue_FailsNamingTheFullKey(string key, string value, string message)
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool().With($"{Section}:{key}", value));

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.Contains($"{Section}:{message}", exception.Message);
    }

    [TestMethod]
    public void Validate_EveryBadValue_IsReportedAtOnce()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool()
            .With($"{Section}:ErrorRateThreshold", "2")
            .With($"{Section}:MinimumRequests", "-1"));

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.AreEqual(2, exception.Failures.Count(f => f.StartsWith(Section, StringComparison.Ordinal)));
    }

    [TestMethod]
    public void Validate_MisspelledKey_FailsListingTheKeysAllowedThere()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool().With($"{Section}:ErrorThreshold", "0.2"));

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.Contains($"{Section}:ErrorThreshold: unknown key; the keys allowed here are ErrorRateThreshold, ErrorRateWindow, MinimumRequests, PlatformMetrics.", exception.Message);
    }

    [TestMethod]
    public void Validate_ValueThatDoesNotConvert_FailsNamingTheKey()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool().With($"{Section}:MinimumRequests", "many"));

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.Contains($"{Section}:MinimumRequests: 'many' is not a valid whole number.", exception.Message);
    }
}
