using System.Diagnostics.Metrics;
using Balancing.Core.Tests.Infrastructure;
using Balancing.Statistics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Balancing.Core.Tests.Statistics;

/// <summary>
/// The engine with its statistics on a fake clock, and the <c>Balancing</c> meter's instruments made from the same
/// container's <see cref="IMeterFactory"/>, so a test records measurements as the forwarding code does.
/// </summary>
internal sealed class StatisticsHarness : IDisposable
{
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _ejections;

    private StatisticsHarness(TestBalancer balancer, FakeTimeProvider clock)
    {
        Balancer = balancer;
        Clock = clock;
        Statistics = balancer.Services.GetRequiredService<ILoadBalancerStatistics>();

        // Started before any measurement, as the host does: the listener then sees the instruments as they are made.
        Collector.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        var meter = balancer.Services.GetRequiredService<IMeterFactory>().Create(BalancingInstruments.MeterName);
        _duration = meter.CreateHistogram<double>(BalancingInstruments.RequestDuration, "s");
        _retries = meter.CreateCounter<long>(BalancingInstruments.Retries);
        _ejections = meter.CreateCounter<long>(BalancingInstruments.Ejections);
    }

    public TestBalancer Balancer { get; }

    public FakeTimeProvider Clock { get; }

    public ILoadBalancerStatistics Statistics { get; }

    public StatisticsCollector Collector => Balancer.Services.GetRequiredService<StatisticsCollector>();

    public FakeLogCollector Logs => Balancer.Services.GetFakeLogCollector();

    public static StatisticsHarness Create(Dictionary<string, string?>? settings = null)
    {
        // A start on a whole second of wall-clock time, so alertSince values are easy to read.
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero));
        var balancer = TestBalancer.Create(settings ?? Settings.DefaultPool(), services =>
        {
            services.AddSingleton<TimeProvider>(clock);
            services.AddLogging(b => b.AddFakeLogging().SetMinimumLevel(LogLevel.Debug));
        });
        return new StatisticsHarness(balancer, clock);
    }

    /// <summary>Records one finished request as <c>balancing.request.duration</c> does.</summary>
    public void Request(string backend, double seconds = 0.01, string outcome = "success", string statusClass = "2xx", string pool = "default")
        => _duration.Record(
            seconds,
            new KeyValuePair<string, object?>("pool", pool),
            new KeyValuePair<string, object?>("backend", backend),
            new KeyValuePair<string, object?>("status_class", statusClass),
            new KeyValuePair<string, object?>("outcome", outcome));

    public void Requests(int count, string backend, string outcome = "success", string statusClass = "2xx")
    {
        for (var i = 0; i < count; i++)
        {
            Request(backend, outcome: outcome, statusClass: statusClass);
        }
    }

    public void Retry(string reason = "connect_failed", string pool = "default")
        => _retries.Add(1, new KeyValuePair<string, object?>("pool", pool), new KeyValuePair<string, object?>("reason", reason));

    public void Ejection(string backend, string pool = "default")
        => _ejections.Add(1, new KeyValuePair<string, object?>("pool", pool), new KeyValuePair<string, object?>("backend", backend));

    public void Advance(double seconds) => Clock.Advance(TimeSpan.FromSeconds(seconds));

    public LoadBalancerStatistics Snapshot() => Statistics.GetSnapshot();

    public PoolStatistics Pool(string name = "default") => Snapshot().Pools.Single(p => p.Name == name);

    public BackendStatistics Backend(string id, string pool = "default") => Pool(pool).Backends.Single(b => b.Id == id);

    /// <summary>The log records of <paramref name="eventId"/>.</summary>
    public IReadOnlyList<FakeLogRecord> Events(int eventId) => [.. Logs.GetSnapshot().Where(r => r.Id.Id == eventId)];

    public void Dispose() => Balancer.Dispose();
}
