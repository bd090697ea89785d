using Balancing.Configuration;
using Balancing.Core.Tests.Infrastructure;
using Balancing.Strategies;
using Microsoft.Extensions.Options;

namespace Balancing.Core.Tests.Health;

[TestClass]
public sealed class HealthCheckOptionsValidatorTests
{
    private const string Active = "LoadBalancer:Pools:default:HealthCheck:Active";

    [TestMethod]
    public void Validate_Defaults_ReturnsNoErrors()
    {
        var errors = Validate(_ => { });

        Assert.IsEmpty(errors);
    }

    [TestMethod]
    public void Defaults_AreTheDocumentedOnes()
    {
        var active = new PoolOptions().HealthCheck.Active;

        Assert.AreEqual(
            (false, "Http", "/health", TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1), 2, 3, "200-299", 0.1),
            (active.Enabled, active.Probe, active.Path, active.Interval, active.Timeout, active.HealthyThreshold, active.UnhealthyThreshold, active.ExpectedStatusCodes, active.Jitter));
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(-1000)]
    public void Validate_NonPositiveInterval_NamesTheKey(int milliseconds)
    {
        var errors = Validate(a => a.Interval = TimeSpan.FromMilliseconds(milliseconds));

        Assert.StartsWith($"{Active}:Interval: must be a positive duration", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    public void Validate_ZeroTimeout_NamesTheKey()
    {
        var errors = Validate(a => a.Timeout = TimeSpan.Zero);

        Assert.StartsWith($"{Active}:Timeout: must be a positive duration", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    public void Validate_TimeoutLongerThanInterval_NamesTheTimeoutKey()
    {
        var errors = Validate(a => a.Timeout = TimeSpan.FromSeconds(3));

        Assert.AreEqual($"{Active}:Timeout: must be at most the Interval (00:00:02), not 00:00:03: a probe may not outlast its round.", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    public void Validate_TimeoutEqualToInterval_IsAccepted()
    {
        var errors = Validate(a => a.Timeout = a.Interval);

        Assert.IsEmpty(errors);
    }

    [TestMethod]
    public void Validate_ZeroHealthyThreshold_NamesTheKey()
    {
        var errors = Validate(a => a.HealthyThreshold = 0);

        Assert.AreEqual($"{Active}:HealthyThreshold: must be at least 1, not 0.", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    public void Validate_NegativeUnhealthyThreshold_NamesTheKey()
    {
        var errors = Validate(a => a.UnhealthyThreshold = -2);

        Assert.AreEqual($"{Active}:UnhealthyThreshold: must be at least 1, not -2.", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    [DataRow(-0.1)]
    [DataRow(0.51)]
    [DataRow(double.NaN)]
    public void Validate_JitterOutOfRange_NamesTheKey(double jitter)
    {
        var errors = Validate(a => a.Jitter = jitter);

        Assert.StartsWith($"{Active}:Jitter: must be between 0 and 0.5", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    [DataRow(0.0)]
    [DataRow(0.5)]
    public void Validate_JitterAtTheBounds_IsAccepted(double jitter)
    {
        Assert.IsEmpty(Validate(a => a.Jitter = jitter));
    }

    [TestMethod]
    [DataRow("health")]
    [DataRow("")]
    [DataRow("http://other/health")]
    public void Validate_PathWithoutLeadingSlash_NamesTheKey(string path)
    {
        var errors = Validate(a => a.Path = path);

        Assert.AreEqual($"{Active}:Path: must start with '/', for example /health, not '{path}'.", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    [DataRow("/he alth")]
    [DataRow("/health#top")]
    public void Validate_PathWithSpaceOrFragment_NamesTheKey(string path)
    {
        var errors = Validate(a => a.Path = path);

        Assert.StartsWith($"{Active}:Path: '{path}' is not a valid path", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    public void Validate_PathWithQuery_IsAccepted()
    {
        Assert.IsEmpty(Validate(a => a.Path = "/health?deep=true"));
    }

    [TestMethod]
    public void Validate_BadExpectedStatusCodes_NamesTheKeyAndShowsAnExample()
    {
        var errors = Validate(a => a.ExpectedStatusCodes = "2xx");

        Assert.AreEqual(
            $"{Active}:ExpectedStatusCodes: '2xx' is not a list of status codes and ranges between 100 and 599, such as 200-299,404.",
            Assert.ContainsSingle(errors));
    }

    [TestMethod]
    public void Validate_UnknownProbe_ListsTheBuiltInProbes()
    {
        var errors = Validate(a => a.Probe = "Grpc");

        Assert.AreEqual($"{Active}:Probe: unknown health probe 'Grpc'; known probes are Http, Tcp.", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    public void Validate_ProbeNameInOtherCase_IsAccepted()
    {
        Assert.IsEmpty(Validate(a => a.Probe = "tcp"));
    }

    [TestMethod]
    public void Validate_ChecksTurnedOff_StillReportsBadSettings()
    {
        var errors = Validate(a =>
        {
            a.Enabled = false;
            a.HealthyThreshold = 0;
        });

        Assert.StartsWith($"{Active}:HealthyThreshold:", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    public void Validate_SeveralProblems_ReportsEveryOne()
    {
        var errors = Validate(a =>
        {
            a.Probe = "Nope";
            a.Path = "health";
            a.Interval = TimeSpan.Zero;
            a.UnhealthyThreshold = 0;
            a.ExpectedStatusCodes = "abc";
            a.Jitter = 2;
        });

        Assert.AreSequenceEqual(
            new[] { "Probe", "Path", "Interval", "UnhealthyThreshold", "ExpectedStatusCodes", "Jitter" }.Select(k => $"{Active}:{k}:"),
            errors.Select(e => e[..(e.IndexOf(": ", StringComparison.Ordinal) + 1)]));
    }

    [TestMethod]
    public void Registry_BadHealthSettingsInConfiguration_FailsStartUpNamingEveryKey()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool()
            .With($"{Active}:Interval", "00:00:01")
            .With($"{Active}:Timeout", "00:00:05")
            .With($"{Active}:ExpectedStatusCodes", "200-199"));

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.Contains($"{Active}:Timeout: must be at most the Interval", exception.Message);
        Assert.Contains($"{Active}:ExpectedStatusCodes: '200-199'", exception.Message);
    }

    [TestMethod]
    public void Registry_UnknownHealthCheckKey_ListsTheAllowedKeys()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool().With($"{Active}:Intervall", "00:00:05"));

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.Contains($"{Active}:Intervall: unknown key; the keys allowed here are Enabled, Probe, Path, Interval, Timeout, HealthyThreshold, UnhealthyThreshold, ExpectedStatusCodes, Jitter.", exception.Message);
    }

    [TestMethod]
    public void Registry_JitterNotANumber_NamesTheKey()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool().With($"{Active}:Jitter", "ten percent"));

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.Contains($"{Active}:Jitter: 'ten percent' is not a valid", exception.Message);
    }

    [TestMethod]
    public void Registry_HealthSettingsInConfiguration_AreBound()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool()
            .With($"{Active}:Enabled", "true")
            .With($"{Active}:Probe", "Tcp")
            .With($"{Active}:Path", "/ready")
            .With($"{Active}:Interval", "00:00:10")
            .With($"{Active}:Timeout", "00:00:03")
            .With($"{Active}:HealthyThreshold", "4")
            .With($"{Active}:UnhealthyThreshold", "5")
            .With($"{Active}:ExpectedStatusCodes", "200,204")
            .With($"{Active}:Jitter", "0.25"));

        var active = balancer.Pool().Options.HealthCheck.Active;

        Assert.AreEqual(
            (true, "Tcp", "/ready", TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(3), 4, 5, "200,204", 0.25),
            (active.Enabled, active.Probe, active.Path, active.Interval, active.Timeout, active.HealthyThreshold, active.UnhealthyThreshold, active.ExpectedStatusCodes, active.Jitter));
    }

    private static List<string> Validate(Action<ActiveHealthCheckOptions> change)
    {
        var pool = new PoolOptions();
        pool.Backends["b1"] = new BackendOptions { Address = "http://b1.test" };
        change(pool.HealthCheck.Active);
        var options = new LoadBalancerOptions();
        options.Pools["default"] = pool;
        var validator = new LoadBalancerOptionsValidator(new LoadStrategyRegistry([new LoadStrategyRegistration(LoadStrategyNames.RoundRobin, _ => new RoundRobinStrategy())]));
        return validator.Validate(options, "LoadBalancer", []);
    }
}
