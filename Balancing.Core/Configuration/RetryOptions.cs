namespace Balancing;

/// <summary>
/// Failover: when an attempt fails in a way that is safe to repeat, the request is sent again to a different backend.
/// </summary>
/// <remarks>
/// A retry only happens while the client has been sent nothing, and only when repeating cannot do harm: the request
/// never reached a backend (the connection failed before any of the body was sent), or the method is idempotent
/// (GET, HEAD, OPTIONS, TRACE, PUT, DELETE) and carries no body. A POST that reached a backend is never sent twice.
/// </remarks>
public sealed class RetryOptions
{
    /// <summary>Gets or sets a value indicating whether failed attempts are retried.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets or sets the most attempts per request, the first included.</summary>
    /// <value>The default is 3: with three backends, two can be down without a client noticing (NGINX tries every server).</value>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Gets or sets the delay before the first retry; later retries back off exponentially, with jitter.</summary>
    /// <value>The default is zero: the next attempt goes to another backend at once, as NGINX's proxy_next_upstream does.</value>
    public TimeSpan Delay { get; set; } = TimeSpan.Zero;

    /// <summary>Gets or sets the longest delay between attempts.</summary>
    /// <value>The default is 1 second.</value>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets a limit on the whole exchange, all attempts and delays included; empty for none.</summary>
    /// <value>The default is <see langword="null"/>: each attempt is bounded by the pool's <c>Timeout</c> only.</value>
    public TimeSpan? TotalTimeout { get; set; }

    /// <summary>Gets or sets the backend status codes that make an idempotent, body-less request try another backend.</summary>
    /// <value>The default is <c>502,503,504</c>: the backend said it could not serve, not that the request was wrong.</value>
    public string RetryOnStatusCodes { get; set; } = "502,503,504";

    /// <summary>
    /// Gets or sets the largest request body, in bytes, that is held in memory so that an idempotent request (PUT,
    /// DELETE, ...) can be sent again after a failure. Larger or chunked bodies stream and are retried only when no
    /// byte of them was sent.
    /// </summary>
    /// <value>The default is 65,536 bytes.</value>
    public int MaxBufferedBodySize { get; set; } = 64 * 1024;

    /// <summary>Gets or sets the share of the pool's in-flight requests that may be retries at any moment.</summary>
    /// <value>The default is 0.2, Envoy's retry budget: a sick pool is not hammered by a retry storm.</value>
    public double BudgetRatio { get; set; } = 0.2;

    /// <summary>Gets or sets how many retries may always be in flight, whatever <see cref="BudgetRatio"/> allows.</summary>
    /// <value>The default is 3 (Envoy's min_retry_concurrency), so a quiet pool can still fail over.</value>
    public int MinRetryConcurrency { get; set; } = 3;
}
