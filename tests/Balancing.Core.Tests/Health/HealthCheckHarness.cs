using System.Collections.Concurrent;
using Balancing.Core.Tests.Infrastructure;
using Balancing.Health;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Balancing.Core.Tests.Health;

/// <summary>What the scripted probe answers for one backend.</summary>
internal delegate ValueTask<ProbeResult> ProbeBehaviour(BackendState backend, CancellationToken cancellationToken);

/// <summary>
/// The answers of <see cref="ScriptedProbe"/>, per backend, and a record of every call. Registered as a singleton so a
/// test can change answers while the checker runs.
/// </summary>
internal sealed class ProbeScript(TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, ProbeBehaviour> _behaviours = new(StringComparer.OrdinalIgnoreCase);

    public static readonly ProbeBehaviour Passing = static (_, _) => ValueTask.FromResult(ProbeResult.Healthy("ok"));

    public static readonly ProbeBehaviour Failing = static (_, _) => ValueTask.FromResult(ProbeResult.Unhealthy("down"));

    /// <summary>Waits until the probe's token is cancelled, as a backend that never answers.</summary>
    public static readonly ProbeBehaviour Hanging = static async (_, cancellationToken) =>
    {
        await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
        return ProbeResult.Healthy("never");
    };

    /// <summary>Every call, in order: which backend, at what (fake) time.</summary>
    public ConcurrentQueue<(string Backend, DateTimeOffset At)> Calls { get; } = new();

    /// <summary>How many probe instances were disposed.</summary>
    public int Disposed;

    /// <summary>The settings each probe instance was built with.</summary>
    public ConcurrentQueue<ActiveHealthCheckOptions> Instances { get; } = new();

    private readonly List<(string Backend, int Count, TaskCompletionSource Done)> _waiters = [];

    public void Set(string backend, ProbeBehaviour behaviour) => _behaviours[backend] = behaviour;

    /// <summary>Completes once <paramref name="backend"/> has been probed <paramref name="count"/> times.</summary>
    public Task WhenCalledAsync(string backend, int count = 1)
    {
        lock (_waiters)
        {
            if (CallsFor(backend) >= count)
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((backend, count, done));
            return done.Task.WaitAsync(HealthCheckHarness.Patience);
        }
    }

    public int CallsFor(string backend) => Calls.Count(c => string.Equals(c.Backend, backend, StringComparison.OrdinalIgnoreCase));

    public ValueTask<ProbeResult> ProbeAsync(BackendState backend, CancellationToken cancellationToken)
    {
        Calls.Enqueue((backend.Id, clock.GetUtcNow()));
        var behaviour = _behaviours.GetValueOrDefault(backend.Id, Passing);
        lock (_waiters)
        {
            foreach (var waiter in _waiters.Where(w => CallsFor(w.Backend) >= w.Count).ToList())
            {
                waiter.Done.TrySetResult();
                _waiters.Remove(waiter);
            }
        }

        return behaviour(backend, cancellationToken);
    }
}

/// <summary>A probe registered by the "app" (the test) with <c>AddHealthProbe</c>; it takes the pool's settings.</summary>
internal sealed class ScriptedProbe : IHealthProbe
{
    private readonly ProbeScript _script;

    public ScriptedProbe(ProbeScript script, ActiveHealthCheckOptions options)
    {
        _script = script;
        script.Instances.Enqueue(options);
    }

    public ValueTask<ProbeResult> ProbeAsync(BackendState backend, CancellationToken cancellationToken) => _script.ProbeAsync(backend, cancellationToken);
}

/// <summary>A <see cref="Random"/> that returns the given samples in turn (the last one forever).</summary>
internal sealed class ScriptedRandom(params double[] samples) : Random
{
    private int _next;

    public override double NextDouble() => samples[Math.Min(_next++, samples.Length - 1)];
}

/// <summary>
/// The engine with active checks over the scripted probe, on a fake clock: pool <c>default</c> with backends b1 and b2,
/// probed every 2 s with no jitter, thresholds 2 (healthy) and 3 (unhealthy). Rounds are driven one by one.
/// </summary>
internal sealed class HealthCheckHarness : IAsyncDisposable
{
    public const string ProbeName = "Scripted";
    public const string Active = "LoadBalancer:Pools:default:HealthCheck:Active";
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private HealthCheckHarness(TestBalancer balancer, FakeTimeProvider clock, ProbeScript script)
    {
        Balancer = balancer;
        Clock = clock;
        Script = script;
    }

    public TestBalancer Balancer { get; }

    public FakeTimeProvider Clock { get; }

    public ProbeScript Script { get; }

    public ActiveHealthChecker Checker => Balancer.Services.GetRequiredService<ActiveHealthChecker>();

    public FakeLogCollector Logs => Balancer.Services.GetFakeLogCollector();

    /// <summary>The number of the last round <see cref="RoundAsync"/> waited for.</summary>
    public long Round { get; private set; }

    public BackendState Backend(string id) => Balancer.Pool().FindBackend(id) ?? throw new AssertFailedException($"No backend {id}.");

    public static Dictionary<string, string?> Settings()
        => Infrastructure.Settings.Pool("default", ("b1", "http://b1.test:8080"), ("b2", "http://b2.test:8080"))
            .With($"{Active}:Enabled", "true")
            .With($"{Active}:Probe", ProbeName)
            .With($"{Active}:Interval", "00:00:02")
            .With($"{Active}:Timeout", "00:00:01")
            .With($"{Active}:Jitter", "0");

    /// <summary>Builds the engine and starts the checker; round 1 starts at once (on the fake clock).</summary>
    public static async Task<HealthCheckHarness> StartAsync(
        Dictionary<string, string?>? settings = null,
        Action<ProbeScript>? script = null,
        Random? random = null,
        Action<IServiceCollection>? configureServices = null)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 3, 4, 5, 6, 7, TimeSpan.Zero));
        var probeScript = new ProbeScript(clock);
        script?.Invoke(probeScript);
        var balancer = TestBalancer.Create(settings ?? Settings(), services =>
        {
            services.AddSingleton<TimeProvider>(clock);
            services.AddSingleton(probeScript);
            services.AddLogging(b => b.AddFakeLogging().SetMinimumLevel(LogLevel.Debug));
            new LoadBalancerBuilder(services).AddHealthProbe<ScriptedProbe>(ProbeName);
            configureServices?.Invoke(services);
        });
        var harness = new HealthCheckHarness(balancer, clock, probeScript);
        if (random is not null)
        {
            harness.Checker.Random = random;
        }

        await harness.Checker.StartAsync(CancellationToken.None);
        return harness;
    }

    /// <summary>Runs the next round: the first one starts by itself, each later one after the clock moves one interval.</summary>
    public async Task RoundAsync(string pool = "default")
    {
        Round++;
        if (Round > 1)
        {
            Clock.Advance(Interval);
        }

        await Checker.WaitForRoundAsync(pool, Round).WaitAsync(Patience);
    }

    public async Task RoundsAsync(int count)
    {
        for (var i = 0; i < count; i++)
        {
            await RoundAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Checker.StopAsync(CancellationToken.None);
        Balancer.Dispose();
    }
}
