using System.Threading.RateLimiting;

namespace Balancing.AspNetCore.RateLimiting;

/// <summary>
/// One effective limit (the global settings, or a route's merged over them): which limiter each client gets, and how
/// often its partitions are tended. A record, so a reload that leaves a limit as it was keeps its partitions.
/// </summary>
internal sealed record RateLimitPolicy(RateLimitAlgorithm Algorithm, int PermitLimit, TimeSpan Window, int TokensPerPeriod, int SegmentsPerWindow, int QueueLimit)
{
    /// <summary>A partition unused for less than this is kept even when it is idle, so a steady client does not churn.</summary>
    public static readonly TimeSpan MinIdleTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Partitions idle this long are dropped whatever the limit says, to keep memory bounded under any setting.</summary>
    public static readonly TimeSpan MaxIdleTimeout = TimeSpan.FromDays(1);

    private static readonly TimeSpan MaxHeartbeat = TimeSpan.FromMilliseconds(100);

    public static RateLimitPolicy From(RateLimitingOptions options)
        => new(options.Algorithm, options.PermitLimit, options.Window, options.TokensPerPeriod, options.SegmentsPerWindow, options.QueueLimit);

    /// <summary>
    /// The policy of a route: <see langword="null"/> when the route is not limited; the global <paramref name="global"/>
    /// object itself when the route overrides nothing (it shares the global partitions); otherwise its own.
    /// </summary>
    public static RateLimitPolicy? ForRoute(RateLimitingOptions options, RouteRateLimitingOptions route, RateLimitPolicy global)
    {
        if (!(route.Enabled ?? options.Enabled))
        {
            return null;
        }

        if (!route.OverridesPolicy)
        {
            return global;
        }

        return new(
            route.Algorithm ?? options.Algorithm,
            route.PermitLimit ?? options.PermitLimit,
            route.Window ?? options.Window,
            route.TokensPerPeriod ?? options.TokensPerPeriod,
            route.SegmentsPerWindow ?? options.SegmentsPerWindow,
            route.QueueLimit ?? options.QueueLimit);
    }

    /// <summary>
    /// How often the partitions are replenished and swept. The limiters do not run their own timers (100,000 clients
    /// would mean 100,000 timers); one heartbeat per policy tops them all up, as the runtime's partitioned limiter does.
    /// </summary>
    public TimeSpan HeartbeatInterval
    {
        get
        {
            var period = Algorithm switch
            {
                RateLimitAlgorithm.Concurrency => TimeSpan.FromSeconds(1),
                RateLimitAlgorithm.SlidingWindow => Window / SegmentsPerWindow,
                _ => Window,
            };

            return period > MaxHeartbeat ? MaxHeartbeat : period;
        }
    }

    /// <summary>
    /// How long a partition must go unused before it is dropped: long enough that it would be back to its full allowance
    /// by then, so forgetting it changes nothing for the client. A concurrency partition also needs no request in progress.
    /// </summary>
    public TimeSpan IdleTimeout
    {
        get
        {
            var refill = Algorithm switch
            {
                RateLimitAlgorithm.TokenBucket => Window.TotalSeconds * Math.Ceiling((double)PermitLimit / TokensPerPeriod),
                RateLimitAlgorithm.FixedWindow => Window.TotalSeconds,
                RateLimitAlgorithm.SlidingWindow => Window.TotalSeconds + (Window / SegmentsPerWindow).TotalSeconds,
                _ => 0,
            };

            var seconds = refill + HeartbeatInterval.TotalSeconds;
            return seconds >= MaxIdleTimeout.TotalSeconds ? MaxIdleTimeout
                : seconds <= MinIdleTimeout.TotalSeconds ? MinIdleTimeout
                : TimeSpan.FromSeconds(seconds);
        }
    }

    /// <summary>Creates one client's limiter. None replenishes itself: the heartbeat of its <see cref="ClientRateLimiter"/> does.</summary>
    public RateLimiter CreateLimiter() => Algorithm switch
    {
        RateLimitAlgorithm.FixedWindow => new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions
        {
            PermitLimit = PermitLimit,
            Window = Window,
            QueueLimit = QueueLimit,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = false,
        }),
        RateLimitAlgorithm.SlidingWindow => new SlidingWindowRateLimiter(new SlidingWindowRateLimiterOptions
        {
            PermitLimit = PermitLimit,
            Window = Window,
            SegmentsPerWindow = SegmentsPerWindow,
            QueueLimit = QueueLimit,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = false,
        }),
        RateLimitAlgorithm.Concurrency => new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = PermitLimit,
            QueueLimit = QueueLimit,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        }),
        _ => new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = PermitLimit,
            TokensPerPeriod = TokensPerPeriod,
            ReplenishmentPeriod = Window,
            QueueLimit = QueueLimit,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = false,
        }),
    };
}
