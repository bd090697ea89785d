using System.Net;
using Balancing.AspNetCore.Tests.Infrastructure;
using Balancing.Health;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Balancing.AspNetCore.Tests.Health;

/// <summary>
/// Active health checks against real Kestrel backends, through a real balancer whose clock is fake: the test moves
/// the clock one interval at a time and waits for each round of probes to finish.
/// </summary>
[TestClass]
public sealed class ActiveHealthCheckTests
{
    private const string Active = "LoadBalancer:Pools:default:HealthCheck:Active";
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    [TestMethod]
    public async Task HttpProbe_HealthEndpointAnswers503_BackendBecomesUnhealthyAfterExactlyThreeRounds()
    {
        await using var cluster = await Cluster.StartAsync(HealthProbeNames.Http);
        await cluster.RoundsAsync(2);
        cluster.Health["b2"].Up = false;

        var observed = new List<BackendHealth>();
        for (var i = 0; i < 3; i++)
        {
            await cluster.RoundAsync();
            observed.Add(cluster.State("b2").Health);
        }

        Assert.AreSequenceEqual(new[] { BackendHealth.Healthy, BackendHealth.Healthy, BackendHealth.Unhealthy }, observed);
        Assert.AreEqual("HTTP 503, expected 200-299", cluster.State("b2").LastProbe!.Value.Description);
        var logged = cluster.Balancer.Logs.GetSnapshot().Where(r => r.Id.Name == "BackendHealthChanged" && r.Message.Contains("Backend b2 ", StringComparison.Ordinal)).Select(r => r.Message);
        Assert.AreSequenceEqual(
            new[]
            {
                "Backend b2 in pool default is now Healthy: passed 2 probes in a row (last: HTTP 200)",
                "Backend b2 in pool default is now Unhealthy: failed 3 probes in a row (last: HTTP 503, expected 200-299)",
            },
            logged);
    }

    [TestMethod]
    public async Task HttpProbe_UnhealthyBackend_GetsNoTraffic()
    {
        // Down from the start: round 1 runs as soon as the balancer starts.
        await using var cluster = await Cluster.StartAsync(HealthProbeNames.Http, down: "b2");
        await cluster.RoundsAsync(3);

        var answers = await cluster.GetManyAsync(30);

        Assert.AreEqual(BackendHealth.Unhealthy, cluster.State("b2").Health);
        Assert.AreEqual(0, answers.Count(a => a == "b2"));
        Assert.AreEqual((15, 15), (answers.Count(a => a == "b1"), answers.Count(a => a == "b3")));
        Assert.AreEqual(0, cluster.TrafficTo("b2"));
    }

    [TestMethod]
    public async Task HttpProbe_UnhealthyBackendRecovers_BackInRotationAfterExactlyTwoPassingRounds()
    {
        // Down from the start: round 1 runs as soon as the balancer starts.
        await using var cluster = await Cluster.StartAsync(HealthProbeNames.Http, down: "b2");
        await cluster.RoundsAsync(3);
        cluster.Health["b2"].Up = true;

        await cluster.RoundAsync();
        var afterOne = cluster.State("b2").Health;
        await cluster.RoundAsync();
        var answers = await cluster.GetManyAsync(30);

        Assert.AreEqual((BackendHealth.Unhealthy, BackendHealth.Healthy), (afterOne, cluster.State("b2").Health));
        Assert.AreEqual((10, 10, 10), (answers.Count(a => a == "b1"), answers.Count(a => a == "b2"), answers.Count(a => a == "b3")));
    }

    [TestMethod]
    public async Task HttpProbe_Probes_AreNotCountedAsTraffic()
    {
        await using var cluster = await Cluster.StartAsync(HealthProbeNames.Http);

        await cluster.RoundsAsync(3);

        var state = cluster.State("b1");
        Assert.AreEqual(3, cluster.Backends["b1"].Received.Count(r => r.Path == "/health"));
        Assert.AreEqual((0L, 0, BackendOutcome.None), (state.TotalRequests, state.InFlight, state.LastOutcome));
    }

    [TestMethod]
    public async Task TcpProbe_BackendStopped_BecomesUnhealthyAfterExactlyThreeRoundsAndGetsNoTraffic()
    {
        await using var cluster = await Cluster.StartAsync(HealthProbeNames.Tcp);
        await cluster.RoundsAsync(2);
        await cluster.Backends["b2"].DisposeAsync();

        var observed = new List<BackendHealth>();
        for (var i = 0; i < 3; i++)
        {
            await cluster.RoundAsync();
            observed.Add(cluster.State("b2").Health);
        }

        var answers = await cluster.GetManyAsync(20);

        Assert.AreSequenceEqual(new[] { BackendHealth.Healthy, BackendHealth.Healthy, BackendHealth.Unhealthy }, observed);
        Assert.AreEqual("TCP connect failed: ConnectionRefused", cluster.State("b2").LastProbe!.Value.Description);
        Assert.IsTrue(answers.All(a => a is "b1" or "b3"), string.Join(", ", answers));
        Assert.AreEqual(0, cluster.Backends["b1"].Received.Count(r => r.Path == "/health"), "the TCP probe sends no request");
    }

    [TestMethod]
    public async Task TcpProbe_StoppedBackendRestartedOnItsPort_BackInRotationAfterExactlyTwoRounds()
    {
        await using var cluster = await Cluster.StartAsync(HealthProbeNames.Tcp);
        await cluster.RoundAsync();
        var port = cluster.Backends["b2"].Port;
        await cluster.Backends["b2"].DisposeAsync();
        await cluster.RoundsAsync(3);
        Assert.AreEqual(BackendHealth.Unhealthy, cluster.State("b2").Health);

        cluster.Backends["b2"] = await TestBackend.StartAsync("b2", port: port);
        await cluster.RoundAsync();
        var afterOne = cluster.State("b2").Health;
        await cluster.RoundAsync();
        var answers = await cluster.GetManyAsync(30);

        Assert.AreEqual(BackendHealth.Unhealthy, afterOne, "one passing round is not enough (HealthyThreshold 2)");
        Assert.AreEqual(BackendHealth.Healthy, cluster.State("b2").Health);
        Assert.AreEqual(10, answers.Count(a => a == "b2"), "the restarted backend takes its share again");
    }

    /// <summary>Whether a backend's <c>/health</c> answers 200 or 503.</summary>
    private sealed class HealthSwitch
    {
        private volatile bool _up = true;

        public bool Up
        {
            get => _up;
            set => _up = value;
        }
    }

    /// <summary>Three real backends b1-b3 behind a balancer on a fake clock, probed every 2 s with no jitter.</summary>
    private sealed class Cluster : IAsyncDisposable
    {
        private readonly FakeTimeProvider _clock;
        private long _round;

        private Cluster(Dictionary<string, TestBackend> backends, Dictionary<string, HealthSwitch> health, BalancerHost balancer, FakeTimeProvider clock)
        {
            Backends = backends;
            Health = health;
            Balancer = balancer;
            _clock = clock;
        }

        public Dictionary<string, TestBackend> Backends { get; }

        public Dictionary<string, HealthSwitch> Health { get; }

        public BalancerHost Balancer { get; }

        private ActiveHealthChecker Checker => Balancer.Services.GetRequiredService<ActiveHealthChecker>();

        public static async Task<Cluster> StartAsync(string probe, params string[] down)
        {
            var backends = new Dictionary<string, TestBackend>();
            var health = new Dictionary<string, HealthSwitch>();
            foreach (var name in new[] { "b1", "b2", "b3" })
            {
                var up = new HealthSwitch { Up = !down.Contains(name) };
                health[name] = up;
                backends[name] = await TestBackend.StartAsync(name, context => AnswerAsync(context, name, up));
            }

            var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
            var settings = BalancerHost.PoolSettings([.. backends.Values]);
            settings[$"{Active}:Enabled"] = "true";
            settings[$"{Active}:Probe"] = probe;
            settings[$"{Active}:Interval"] = "00:00:02";
            settings[$"{Active}:Timeout"] = "00:00:01";
            settings[$"{Active}:Jitter"] = "0";
            var balancer = await BalancerHost.StartWithClockAsync(settings, clock);
            return new Cluster(backends, health, balancer, clock);
        }

        public BackendState State(string name) => Balancer.Registry.GetPool("default")!.FindBackend(name)!;

        /// <summary>Lets the next round of probes run and waits for it: round 1 runs at start, each later one an interval on.</summary>
        public async Task RoundAsync()
        {
            _round++;
            if (_round > 1)
            {
                _clock.Advance(Interval);
            }

            await Checker.WaitForRoundAsync("default", _round).WaitAsync(Patience);
        }

        public async Task RoundsAsync(int count)
        {
            for (var i = 0; i < count; i++)
            {
                await RoundAsync();
            }
        }

        /// <summary>Sends <paramref name="count"/> requests through the balancer, one after another; returns who answered.</summary>
        public async Task<List<string>> GetManyAsync(int count)
        {
            var answers = new List<string>();
            for (var i = 0; i < count; i++)
            {
                using var response = await Balancer.Client.GetAsync($"/work/{i}");
                Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
                answers.Add(await response.Content.ReadAsStringAsync());
            }

            return answers;
        }

        /// <summary>The requests a backend received that were not probes.</summary>
        public int TrafficTo(string name) => Backends[name].Received.Count(r => r.Path != "/health");

        public async ValueTask DisposeAsync()
        {
            await Balancer.DisposeAsync();
            foreach (var backend in Backends.Values)
            {
                await backend.DisposeAsync();
            }
        }

        private static async Task AnswerAsync(HttpContext context, string name, HealthSwitch up)
        {
            if (context.Request.Path == "/health")
            {
                context.Response.StatusCode = up.Up ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
                return;
            }

            await context.Response.WriteAsync(name);
        }
    }
}
