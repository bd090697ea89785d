namespace Balancing.Statistics;

/// <summary>
/// The names and tags of the instruments of the <c>Balancing</c> meter that the statistics listen to. The meter is the one
/// source of request telemetry: metrics exporters and the statistics are two consumers of the same measurements.
/// </summary>
internal static class BalancingInstruments
{
    public const string MeterName = "Balancing";

    /// <summary>Histogram&lt;double&gt;, seconds, one measurement per finished request; tags pool, backend, status_class, outcome.</summary>
    public const string RequestDuration = "balancing.request.duration";

    /// <summary>Counter&lt;long&gt;; tags pool, reason.</summary>
    public const string Retries = "balancing.retries";

    /// <summary>Counter&lt;long&gt;; tags pool, backend.</summary>
    public const string Ejections = "balancing.backend.ejections";

    /// <summary>Counter&lt;long&gt;; tags pool, route.</summary>
    public const string RateLimitRejections = "balancing.rate_limit.rejections";

    /// <summary>ObservableCounter&lt;long&gt; (running totals, read by <see cref="StatisticsListener.Observe"/>); tags pool, result.</summary>
    public const string CacheRequests = "balancing.cache.requests";

    public const string ResultTag = "result";

    public const string PoolTag = "pool";
    public const string BackendTag = "backend";
    public const string StatusClassTag = "status_class";
    public const string OutcomeTag = "outcome";

    /// <summary>The backend tag's value when no backend was chosen.</summary>
    public const string NoBackend = "none";

    /// <summary>The outcome of a request whose backend response was relayed, whatever its status.</summary>
    public const string Success = "success";

    /// <summary>The outcome of a request whose client went away: neither the backend's nor the balancer's failure.</summary>
    public const string Canceled = "canceled";

    /// <summary>The outcome of a request the rate limiter refused: the limit doing its job, not a failure.</summary>
    public const string RateLimited = "rate_limited";

    public const string ServerErrorClass = "5xx";

    /// <summary>
    /// Whether a finished request counts as an error: the backend answered 5xx, or the exchange ended in anything but a
    /// relayed response, a client that went away or a client over its rate limit (no backend available, connect failure, timeout, broken response...).
    /// </summary>
    public static bool IsError(string? outcome, string? statusClass)
        => outcome switch
        {
            Success => statusClass == ServerErrorClass,
            Canceled or RateLimited => false,
            _ => true,
        };
}
