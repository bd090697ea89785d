using System.Diagnostics.Metrics;
using Balancing.Diagnostics;
using Balancing.Statistics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Balancing.Redis;

/// <summary>
/// The one connection to the shared Redis, and what the balancer believes about it: available or not. Requests ask
/// <see cref="IsAvailable"/> before they touch Redis, so during an outage no request waits on it; only the requests
/// that discover an outage (a command that fails or times out) pay, and at most <see cref="RedisOptions.OperationTimeout"/>.
/// </summary>
/// <remarks>
/// An outage is logged once when it starts (event 310) and once when it ends (event 311). While it lasts, a probe sends
/// <c>PING</c> every second, which also ends an outage that a timed-out command started on a connection that never broke.
/// </remarks>
internal sealed class RedisConnection : IHostedService, ISharedStateStatus, IAsyncDisposable
{
    private const int Starting = 0;
    private const int Up = 1;
    private const int Down = 2;
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly ITimer _probe;
    private readonly Lock _connectLock = new();
    private ConnectionMultiplexer? _multiplexer;
    private int _state;
    private int _probing;
    private long _outages;
    private long _sinceTicks;

    public RedisConnection(IOptions<RedisOptions> options, TimeProvider timeProvider, ILogger<RedisConnection> logger, IMeterFactory meterFactory)
    {
        Options = options.Value;
        _timeProvider = timeProvider;
        _logger = logger;
        _sinceTicks = timeProvider.GetUtcNow().UtcTicks;
        _probe = timeProvider.CreateTimer(static state => _ = ((RedisConnection)state!).ProbeAsync(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        meterFactory.Create(BalancingTelemetry.MeterName).CreateObservableGauge(
            "balancing.redis.available", () => IsAvailable ? 1 : 0, unit: "{state}",
            description: "1 while the shared Redis answers, 0 during an outage (rate limits and the cache are then per instance).");
    }

    public RedisOptions Options { get; }

    /// <summary>Gets a value indicating whether Redis answered the last time it was asked.</summary>
    public bool IsAvailable => Volatile.Read(ref _state) == Up;

    /// <summary>Gets how many outages began since start-up.</summary>
    public long Outages => Interlocked.Read(ref _outages);

    /// <summary>Gets when the current state (available or not) began.</summary>
    public DateTimeOffset Since => new(Interlocked.Read(ref _sinceTicks), TimeSpan.Zero);

    /// <summary>Gets the database commands go to. Ask <see cref="IsAvailable"/> first.</summary>
    public IDatabase Database => (Volatile.Read(ref _multiplexer) ?? Connect()).GetDatabase();

    /// <summary>Gets the publish/subscribe side of the connection; its subscriptions are restored after a reconnection.</summary>
    public ISubscriber Subscriber => (Volatile.Read(ref _multiplexer) ?? Connect()).GetSubscriber();

    /// <summary>Gets the primaries that hold keys (one, or each shard of a cluster), for a scan over keys.</summary>
    public IEnumerable<IServer> Primaries => (Volatile.Read(ref _multiplexer) ?? Connect()).GetServers().Where(static s => s.IsConnected && !s.IsReplica);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Data Protection may have connected already: it reads the key ring while its own hosted service starts.
        _ = Connect();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public SharedStateStatistics GetStatistics() => new() { Store = "redis", Available = IsAvailable, Since = Since, Outages = Outages };

    /// <summary>Records that a command failed: the first failure of an outage logs it and starts the probe.</summary>
    public void ReportFailure(Exception exception) => ReportFailure(exception.GetType().Name);

    public async ValueTask DisposeAsync()
    {
        await _probe.DisposeAsync().ConfigureAwait(false);
        if (_multiplexer is { } multiplexer)
        {
            await multiplexer.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Connects once, at start-up (or when Data Protection first reads the key ring, which may come first). With
    /// <c>AbortOnConnectFail</c> off this returns after at most <see cref="RedisOptions.ConnectTimeout"/> even when Redis
    /// is down, and the multiplexer keeps reconnecting in the background.
    /// </summary>
    private ConnectionMultiplexer Connect()
    {
        lock (_connectLock)
        {
            if (_multiplexer is { } existing)
            {
                return existing;
            }

            var configuration = ConfigurationOptions.Parse(Options.Configuration);

            // Never let a dead Redis hold a request: connect in the background, fail commands at once while disconnected
            // (no backlog), and give a request's command a short time. Synchronous commands are Data Protection's key
            // ring reads, rare and off the request path, so they get the connect timeout.
            configuration.AbortOnConnectFail = false;
            configuration.ConnectTimeout = (int)Options.ConnectTimeout.TotalMilliseconds;
            configuration.SyncTimeout = (int)Math.Max(Options.ConnectTimeout.TotalMilliseconds, Options.OperationTimeout.TotalMilliseconds);
            configuration.AsyncTimeout = (int)Options.OperationTimeout.TotalMilliseconds;
            configuration.BacklogPolicy = BacklogPolicy.FailFast;
            configuration.ReconnectRetryPolicy = new LinearRetry(500);
            configuration.ConnectRetry = 1;

            var multiplexer = ConnectionMultiplexer.Connect(configuration);
            multiplexer.ConnectionFailed += (_, e) => ReportFailure(e.FailureType.ToString());
            multiplexer.ConnectionRestored += (_, _) => _ = ProbeAsync();
            Volatile.Write(ref _multiplexer, multiplexer);
            if (multiplexer.IsConnected)
            {
                MarkAvailable();
            }
            else
            {
                ReportFailure("no connection at start-up");
            }

            return multiplexer;
        }
    }

    private void ReportFailure(string reason)
    {
        if (Interlocked.Exchange(ref _state, Down) == Down)
        {
            return;
        }

        Interlocked.Increment(ref _outages);
        Interlocked.Exchange(ref _sinceTicks, _timeProvider.GetUtcNow().UtcTicks);
        RedisLog.Unavailable(_logger, reason, Options.OnUnavailable);
        _probe.Change(ProbeInterval, ProbeInterval);
    }

    private void MarkAvailable()
    {
        var previous = Interlocked.Exchange(ref _state, Up);
        if (previous == Up)
        {
            return;
        }

        var now = _timeProvider.GetUtcNow();
        var outage = now - new DateTimeOffset(Interlocked.Exchange(ref _sinceTicks, now.UtcTicks), TimeSpan.Zero);
        _probe.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (previous == Down)
        {
            RedisLog.Restored(_logger, outage);
        }
        else
        {
            RedisLog.Connected(_logger, string.Join(", ", _multiplexer!.GetEndPoints().Select(static e => e.ToString())));
        }
    }

    private async Task ProbeAsync()
    {
        if (_multiplexer is not { } multiplexer || Interlocked.Exchange(ref _probing, 1) == 1)
        {
            return;
        }

        try
        {
            await multiplexer.GetDatabase().PingAsync().ConfigureAwait(false);
            MarkAvailable();
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Still down: the next tick asks again.
        }
        finally
        {
            Volatile.Write(ref _probing, 0);
        }
    }
}
