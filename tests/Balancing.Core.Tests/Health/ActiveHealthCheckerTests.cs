using Balancing.Core.Tests.Infrastructure;
using Balancing.Health;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Balancing.Core.Tests.Health;

[TestClass]
public sealed class ActiveHealthCheckerTests
{
    private const string Active = HealthCheckHarness.Active;

    [TestMethod]
    public async Task Round_UnknownBackendFailing_StaysUnknownUntilTheUnhealthyThreshold()
    {
        await using var harness = await HealthCheckHarness.StartAsync(script: s => s.Set("b1", ProbeScript.Failing));

        await harness.RoundsAsync(2);

        var b1 = harness.Backend("b1");
        Assert.AreEqual((BackendHealth.Unknown, 2, true), (b1.Health, b1.ConsecutiveProbeFailures, harness.Balancer.Pool().AvailableBackends.Contains(b1)));
    }

    [TestMethod]
    public async Task Round_UnknownBackendFailingThreeTimes_BecomesUnhealthyAndLeavesRotation()
    {
        await using var harness = await HealthCheckHarness.StartAsync(script: s => s.Set("b1", ProbeScript.Failing));

        await harness.RoundsAsync(3);

        var b1 = harness.Backend("b1");
        Assert.AreEqual(BackendHealth.Unhealthy, b1.Health);
        Assert.AreSequenceEqual(new[] { "b2" }, harness.Balancer.Pool().AvailableBackends.Select(b => b.Id));
    }

    [TestMethod]
    public async Task Round_UnknownBackendPassingOnce_StaysUnknown()
    {
        await using var harness = await HealthCheckHarness.StartAsync();

        await harness.RoundAsync();

        Assert.AreEqual((BackendHealth.Unknown, 1), (harness.Backend("b1").Health, harness.Backend("b1").ConsecutiveProbePasses));
    }

    [TestMethod]
    public async Task Round_UnknownBackendPassingTwice_BecomesHealthy()
    {
        await using var harness = await HealthCheckHarness.StartAsync();

        await harness.RoundsAsync(2);

        Assert.AreEqual(BackendHealth.Healthy, harness.Backend("b1").Health);
    }

    [TestMethod]
    public async Task Round_HealthyBackendFailing_BecomesUnhealthyAfterExactlyThreeFailures()
    {
        await using var harness = await HealthCheckHarness.StartAsync();
        await harness.RoundsAsync(2);
        harness.Script.Set("b1", ProbeScript.Failing);

        var observed = new List<BackendHealth>();
        for (var i = 0; i < 3; i++)
        {
            await harness.RoundAsync();
            observed.Add(harness.Backend("b1").Health);
        }

        Assert.AreSequenceEqual(new[] { BackendHealth.Healthy, BackendHealth.Healthy, BackendHealth.Unhealthy }, observed);
    }

    [TestMethod]
    public async Task Round_UnhealthyBackendPassing_RecoversAfterExactlyTwoPasses()
    {
        await using var harness = await HealthCheckHarness.StartAsync(script: s => s.Set("b1", ProbeScript.Failing));
        await harness.RoundsAsync(3);
        harness.Script.Set("b1", ProbeScript.Passing);

        await harness.RoundAsync();
        var afterOne = harness.Backend("b1").Health;
        await harness.RoundAsync();

        Assert.AreEqual((BackendHealth.Unhealthy, BackendHealth.Healthy), (afterOne, harness.Backend("b1").Health));
        Assert.AreEqual(2, harness.Balancer.Pool().AvailableBackends.Length);
    }

    [TestMethod]
    public async Task Round_FailureBetweenPasses_RestartsTheCountOfPasses()
    {
        await using var harness = await HealthCheckHarness.StartAsync(script: s => s.Set("b1", ProbeScript.Failing));
        await harness.RoundsAsync(3);

        foreach (var behaviour in new[] { ProbeScript.Passing, ProbeScript.Failing, ProbeScript.Passing })
        {
            harness.Script.Set("b1", behaviour);
            await harness.RoundAsync();
        }

        Assert.AreEqual((BackendHealth.Unhealthy, 1), (harness.Backend("b1").Health, harness.Backend("b1").ConsecutiveProbePasses));
    }

    [TestMethod]
    public async Task Round_ProbeThrows_CountsAsFailureWithTheExceptionAndProbingContinues()
    {
        var boom = new InvalidOperationException("boom");
        await using var harness = await HealthCheckHarness.StartAsync(script: s => s.Set("b1", (_, _) => throw boom));

        await harness.RoundsAsync(3);
        var b1 = harness.Backend("b1");
        var (health, last) = (b1.Health, b1.LastProbe!.Value);
        harness.Script.Set("b1", ProbeScript.Passing);
        await harness.RoundsAsync(2);

        Assert.AreEqual(BackendHealth.Unhealthy, health);
        Assert.AreSame(boom, last.Exception);
        Assert.Contains("InvalidOperationException: boom", last.Description!);
        Assert.AreEqual((BackendHealth.Healthy, 5), (b1.Health, harness.Script.CallsFor("b1")));
    }

    [TestMethod]
    public async Task Round_ProbeFaultsAsynchronously_CountsAsFailure()
    {
        await using var harness = await HealthCheckHarness.StartAsync(script: s => s.Set("b1", async (_, _) =>
        {
            await Task.Yield();
            throw new IOException("gone");
        }));

        await harness.RoundAsync();

        Assert.AreEqual((false, 1), (harness.Backend("b1").LastProbe!.Value.IsHealthy, harness.Backend("b1").ConsecutiveProbeFailures));
    }

    [TestMethod]
    public async Task Round_ProbeWithoutAnswer_FailsExactlyWhenTheTimeoutElapses()
    {
        await using var harness = await HealthCheckHarness.StartAsync(script: s => s.Set("b1", ProbeScript.Hanging));
        await harness.Script.WhenCalledAsync("b1");

        harness.Clock.Advance(TimeSpan.FromMilliseconds(999));
        var completedBeforeTimeout = harness.Checker.CompletedRounds("default");
        harness.Clock.Advance(TimeSpan.FromMilliseconds(1));
        await harness.Checker.WaitForRoundAsync("default", 1).WaitAsync(HealthCheckHarness.Patience);

        var b1 = harness.Backend("b1");
        Assert.AreEqual(0L, completedBeforeTimeout);
        Assert.AreEqual(("Timed out after 00:00:01", TimeSpan.FromSeconds(1), 1), (b1.LastProbe!.Value.Description, b1.LastProbeLatency, b1.ConsecutiveProbeFailures));
    }

    [TestMethod]
    public async Task Round_ProbeIgnoringItsToken_IsStillBoundedByTheTimeout()
    {
        var never = new TaskCompletionSource<ProbeResult>();
        await using var harness = await HealthCheckHarness.StartAsync(script: s => s.Set("b1", (_, _) => new ValueTask<ProbeResult>(never.Task)));
        await harness.Script.WhenCalledAsync("b1");

        harness.Clock.Advance(TimeSpan.FromSeconds(1));
        await harness.Checker.WaitForRoundAsync("default", 1).WaitAsync(HealthCheckHarness.Patience);

        Assert.AreEqual("Timed out after 00:00:01", harness.Backend("b1").LastProbe!.Value.Description);
    }

    [TestMethod]
    public async Task Round_DisabledPool_IsNeverProbed()
    {
        var settings = HealthCheckHarness.Settings();
        foreach (var (key, value) in Settings.Pool("spare", ("s1", "http://s1.test")))
        {
            settings[key] = value;
        }

        settings["LoadBalancer:Pools:spare:HealthCheck:Active:Probe"] = HealthCheckHarness.ProbeName;
        await using var harness = await HealthCheckHarness.StartAsync(settings);

        await harness.RoundsAsync(3);

        Assert.AreEqual(0, harness.Script.CallsFor("s1"));
        Assert.AreSequenceEqual(new[] { "default" }, harness.Checker.ProbedPools);
        Assert.AreEqual(0L, harness.Checker.CompletedRounds("spare"));
    }

    [TestMethod]
    public async Task Round_WithJitter_ProbesAtTheRandomShareOfTheJitterWindow()
    {
        // Jitter 0.25 of 2 s: each probe lands within ±0.5 s of its regular time, i.e. 0 to 1 s into the round.
        var settings = Settings.Pool("default", ("b1", "http://b1.test"))
            .With($"{Active}:Enabled", "true").With($"{Active}:Probe", HealthCheckHarness.ProbeName).With($"{Active}:Jitter", "0.25");
        await using var harness = await HealthCheckHarness.StartAsync(settings, random: new ScriptedRandom(0.5, 0.9));
        var start = harness.Clock.GetUtcNow();

        var first = harness.Script.WhenCalledAsync("b1", 1);
        harness.Clock.Advance(TimeSpan.FromMilliseconds(499));
        var earlyCalls = harness.Script.Calls.Count;
        harness.Clock.Advance(TimeSpan.FromMilliseconds(1));
        await first.WaitAsync(HealthCheckHarness.Patience);
        await harness.Checker.WaitForRoundAsync("default", 1).WaitAsync(HealthCheckHarness.Patience);

        var second = harness.Script.WhenCalledAsync("b1", 2);
        harness.Clock.Advance(TimeSpan.FromMilliseconds(1500));  // 2.0 s: round 2 starts, its probe is due at 2.9 s
        harness.Clock.Advance(TimeSpan.FromMilliseconds(899));
        var callsBeforeSecond = harness.Script.Calls.Count;
        harness.Clock.Advance(TimeSpan.FromMilliseconds(1));
        await second.WaitAsync(HealthCheckHarness.Patience);

        Assert.AreEqual((0, 1), (earlyCalls, callsBeforeSecond));
        Assert.AreSequenceEqual(
            new[] { TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(2900) },
            harness.Script.Calls.Select(c => c.At - start));
    }

    [TestMethod]
    public async Task NextJitter_SeededRandom_StaysWithinPlusOrMinusJitterTimesInterval()
    {
        await using var harness = await HealthCheckHarness.StartAsync(random: new Random(20250304));
        var interval = TimeSpan.FromSeconds(2);

        var delays = Enumerable.Range(0, 10_000).Select(_ => harness.Checker.NextJitter(interval, 0.1)).ToList();

        // The regular moment is 0.2 s into the round; every probe lands within 0.2 s of it, and they spread over the window.
        var offsets = delays.Select(d => d - TimeSpan.FromMilliseconds(200)).ToList();
        Assert.IsTrue(offsets.All(o => o >= TimeSpan.FromMilliseconds(-200) && o < TimeSpan.FromMilliseconds(200)));
        Assert.IsLessThan(TimeSpan.FromMilliseconds(-190), offsets.Min());
        Assert.IsGreaterThan(TimeSpan.FromMilliseconds(190), offsets.Max());
    }

    [TestMethod]
    [DataRow(0.0, 0)]
    [DataRow(0.5, 200)]
    [DataRow(0.999999, 399)]
    public void JitterDelay_Sample_MapsOntoTwiceJitterTimesInterval(double sample, int expectedMilliseconds)
    {
        var delay = ActiveHealthChecker.JitterDelay(TimeSpan.FromSeconds(2), 0.1, sample);

        Assert.AreEqual(expectedMilliseconds, (int)delay.TotalMilliseconds);
    }

    [TestMethod]
    public async Task Reload_AddsBackend_NextRoundProbesIt()
    {
        await using var harness = await HealthCheckHarness.StartAsync();
        await harness.RoundAsync();

        var result = await harness.Balancer.ChangeAndWaitAsync(HealthCheckHarness.Settings().With(Settings.BackendKey("default", "b3"), "http://b3.test"));
        await harness.RoundAsync();

        Assert.IsTrue(result.Applied);
        Assert.AreEqual((1, 1), (harness.Script.CallsFor("b3"), harness.Backend("b3").ConsecutiveProbePasses));
    }

    [TestMethod]
    public async Task Reload_SurvivingBackend_KeepsItsConsecutiveFailures()
    {
        await using var harness = await HealthCheckHarness.StartAsync(script: s => s.Set("b1", ProbeScript.Failing));
        await harness.RoundsAsync(2);

        await harness.Balancer.ChangeAndWaitAsync(HealthCheckHarness.Settings().With(Settings.BackendKey("default", "b3"), "http://b3.test"));
        await harness.RoundAsync();

        Assert.AreEqual((3, BackendHealth.Unhealthy), (harness.Backend("b1").ConsecutiveProbeFailures, harness.Backend("b1").Health));
    }

    [TestMethod]
    public async Task Reload_ChecksTurnedOff_StopsProbingAndReturnsBackendsToUnknown()
    {
        await using var harness = await HealthCheckHarness.StartAsync(script: s => s.Set("b1", ProbeScript.Failing));
        await harness.RoundsAsync(3);

        await harness.Balancer.ChangeAndWaitAsync(HealthCheckHarness.Settings().With($"{Active}:Enabled", "false"));
        var calls = harness.Script.Calls.Count;
        harness.Clock.Advance(TimeSpan.FromSeconds(10));

        var b1 = harness.Backend("b1");
        Assert.AreEqual((BackendHealth.Unknown, (ProbeResult?)null, 0), (b1.Health, b1.LastProbe, b1.ConsecutiveProbeFailures));
        Assert.AreEqual(2, harness.Balancer.Pool().AvailableBackends.Length);
        Assert.AreEqual(calls, harness.Script.Calls.Count);
        Assert.IsEmpty(harness.Checker.ProbedPools);
    }

    [TestMethod]
    public async Task Reload_NewPoolWithChecks_IsProbed()
    {
        await using var harness = await HealthCheckHarness.StartAsync();
        var settings = HealthCheckHarness.Settings();
        foreach (var (key, value) in Settings.Pool("api", ("a1", "http://a1.test")))
        {
            settings[key] = value;
        }

        settings["LoadBalancer:Pools:api:HealthCheck:Active:Enabled"] = "true";
        settings["LoadBalancer:Pools:api:HealthCheck:Active:Probe"] = HealthCheckHarness.ProbeName;

        settings["LoadBalancer:Pools:api:HealthCheck:Active:Jitter"] = "0";

        await harness.Balancer.ChangeAndWaitAsync(settings);
        await harness.Checker.WaitForRoundAsync("api", 1).WaitAsync(HealthCheckHarness.Patience);

        Assert.AreEqual(1, harness.Script.CallsFor("a1"));
    }

    [TestMethod]
    public async Task Reload_CheckSettingsChanged_RestartsWithANewProbeInstance()
    {
        await using var harness = await HealthCheckHarness.StartAsync();
        await harness.RoundAsync();

        await harness.Balancer.ChangeAndWaitAsync(HealthCheckHarness.Settings().With($"{Active}:Path", "/ready"));

        Assert.AreSequenceEqual(new[] { "/health", "/ready" }, harness.Script.Instances.Select(o => o.Path));
    }

    [TestMethod]
    public async Task Round_Transition_IsLoggedOnceWithItsReason()
    {
        await using var harness = await HealthCheckHarness.StartAsync(script: s => s.Set("b1", ProbeScript.Failing));

        await harness.RoundsAsync(5);

        var record = Assert.ContainsSingle(harness.Logs.GetSnapshot().Where(r => r.Id.Id == 200 && r.Message.Contains("Backend b1 ", StringComparison.Ordinal)));
        Assert.AreEqual(
            ("BackendHealthChanged", LogLevel.Warning, "Backend b1 in pool default is now Unhealthy: failed 3 probes in a row (last: down)"),
            (record.Id.Name, record.Level, record.Message));
    }

    [TestMethod]
    public async Task Round_Transition_RaisesHealthChangedWithReasonAndFakeClockTime()
    {
        await using var harness = await HealthCheckHarness.StartAsync();
        var changes = new List<BackendHealthChangedEventArgs>();
        harness.Backend("b2").HealthChanged += (_, e) => changes.Add(e);

        await harness.RoundsAsync(2);

        var change = Assert.ContainsSingle(changes);
        Assert.AreEqual((BackendHealth.Unknown, BackendHealth.Healthy, "passed 2 probes in a row (last: ok)"), (change.Previous, change.Current, change.Reason));
        Assert.AreEqual(harness.Clock.GetUtcNow(), harness.Backend("b2").HealthChangedAt);
    }

    [TestMethod]
    public async Task Round_Probe_RecordsResultTimeAndLatencyOnTheBackend()
    {
        await using var harness = await HealthCheckHarness.StartAsync();

        await harness.RoundsAsync(2);

        var b1 = harness.Backend("b1");
        Assert.AreEqual(
            ((ProbeResult?)ProbeResult.Healthy("ok"), (DateTimeOffset?)harness.Clock.GetUtcNow(), (TimeSpan?)TimeSpan.Zero, 2, 0),
            (b1.LastProbe, b1.LastProbeAt, b1.LastProbeLatency, b1.ConsecutiveProbePasses, b1.ConsecutiveProbeFailures));
    }

    [TestMethod]
    public async Task Round_Probe_IsNotCountedAsTraffic()
    {
        await using var harness = await HealthCheckHarness.StartAsync();

        await harness.RoundsAsync(3);

        var b1 = harness.Backend("b1");
        Assert.AreEqual((0L, 0, BackendOutcome.None), (b1.TotalRequests, b1.InFlight, b1.LastOutcome));
    }

    [TestMethod]
    public async Task AddHealthProbe_ChosenByName_IsBuiltWithThePoolsSettings()
    {
        var settings = HealthCheckHarness.Settings().With($"{Active}:Path", "/custom").With($"{Active}:HealthyThreshold", "5");
        await using var harness = await HealthCheckHarness.StartAsync(settings);

        await harness.RoundAsync();

        var options = Assert.ContainsSingle(harness.Script.Instances);
        Assert.AreEqual(("/custom", 5), (options.Path, options.HealthyThreshold));
        Assert.AreEqual(2, harness.Script.Calls.Count);
    }

    [TestMethod]
    public void AddHealthProbe_UnknownProbeName_FailsStartUpListingTheKnownProbes()
    {
        using var balancer = TestBalancer.Create(
            HealthCheckHarness.Settings().With($"{Active}:Probe", "Grpc"),
            services => new LoadBalancerBuilder(services).AddHealthProbe<ScriptedProbe>("Scripted"));

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.Contains($"{Active}:Probe: unknown health probe 'Grpc'; known probes are Http, Scripted, Tcp.", exception.Message);
    }

    [TestMethod]
    public void AddHealthProbe_EmptyName_Throws()
    {
        var builder = new LoadBalancerBuilder(new ServiceCollection());

        Assert.ThrowsExactly<ArgumentException>(() => builder.AddHealthProbe<ScriptedProbe>(" "));
    }

    [TestMethod]
    public async Task StopAsync_AfterStop_NoMoreProbes()
    {
        var harness = await HealthCheckHarness.StartAsync();
        await harness.RoundAsync();

        await harness.Checker.StopAsync(CancellationToken.None);
        var calls = harness.Script.Calls.Count;
        harness.Clock.Advance(TimeSpan.FromSeconds(20));

        Assert.AreEqual(calls, harness.Script.Calls.Count);
        harness.Balancer.Dispose();
    }

    [TestMethod]
    public async Task StopAsync_ProbeInFlight_RecordsNothing()
    {
        var harness = await HealthCheckHarness.StartAsync(script: s => s.Set("b1", ProbeScript.Hanging));
        await harness.Script.WhenCalledAsync("b1");

        await harness.Checker.StopAsync(CancellationToken.None).WaitAsync(HealthCheckHarness.Patience);

        Assert.AreEqual(((ProbeResult?)null, 0), (harness.Backend("b1").LastProbe, harness.Backend("b1").ConsecutiveProbeFailures));
        harness.Balancer.Dispose();
    }

    [TestMethod]
    public async Task StartAsync_ProbeConstructorThrows_FailsStartUp()
    {
        var settings = HealthCheckHarness.Settings().With($"{Active}:Probe", "Broken");

        var exception = await Assert.ThrowsExactlyAsync<InvalidOperationException>(() => HealthCheckHarness.StartAsync(
            settings,
            configureServices: services => new LoadBalancerBuilder(services).AddHealthProbe<BrokenProbe>("Broken")));

        Assert.AreEqual("no probe today", exception.Message);
    }

    [TestMethod]
    public async Task Reload_ProbeConstructorThrows_LogsAndKeepsProbingOtherPools()
    {
        await using var harness = await HealthCheckHarness.StartAsync(
            configureServices: services => new LoadBalancerBuilder(services).AddHealthProbe<BrokenProbe>("Broken"));
        await harness.RoundAsync();
        var settings = HealthCheckHarness.Settings();
        foreach (var (key, value) in Settings.Pool("api", ("a1", "http://a1.test")))
        {
            settings[key] = value;
        }

        settings["LoadBalancer:Pools:api:HealthCheck:Active:Enabled"] = "true";
        settings["LoadBalancer:Pools:api:HealthCheck:Active:Probe"] = "Broken";

        await harness.Balancer.ChangeAndWaitAsync(settings);
        await harness.RoundAsync();

        var record = Assert.ContainsSingle(harness.Logs.GetSnapshot().Where(r => r.Id.Id == 204));
        Assert.AreEqual(LogLevel.Error, record.Level);
        Assert.AreSequenceEqual(new[] { "default" }, harness.Checker.ProbedPools);
        Assert.AreEqual(2, harness.Script.CallsFor("b1"));
    }

    [TestMethod]
    public async Task AddHealthProbe_BuiltInName_ReplacesTheBuiltInProbe()
    {
        var settings = HealthCheckHarness.Settings().With($"{Active}:Probe", "http");
        await using var harness = await HealthCheckHarness.StartAsync(
            settings,
            configureServices: services => new LoadBalancerBuilder(services).AddHealthProbe<ScriptedProbe>(HealthProbeNames.Http));

        await harness.RoundAsync();

        Assert.AreEqual(1, harness.Script.CallsFor("b1"));
    }

    [TestMethod]
    public async Task StopAsync_DisposableProbe_IsDisposed()
    {
        var settings = HealthCheckHarness.Settings().With($"{Active}:Probe", "Disposable");
        var harness = await HealthCheckHarness.StartAsync(
            settings,
            configureServices: services => new LoadBalancerBuilder(services).AddHealthProbe<DisposableProbe>("Disposable"));
        await harness.RoundAsync();

        await harness.Checker.StopAsync(CancellationToken.None);

        Assert.AreEqual(1, harness.Script.Disposed);
        harness.Balancer.Dispose();
    }

    private sealed class BrokenProbe : IHealthProbe
    {
        public BrokenProbe() => throw new InvalidOperationException("no probe today");

        public ValueTask<ProbeResult> ProbeAsync(BackendState backend, CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    private sealed class DisposableProbe(ProbeScript script) : IHealthProbe, IDisposable
    {
        public ValueTask<ProbeResult> ProbeAsync(BackendState backend, CancellationToken cancellationToken) => script.ProbeAsync(backend, cancellationToken);

        public void Dispose() => Interlocked.Increment(ref script.Disposed);
    }
}
