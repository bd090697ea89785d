namespace Balancing.Diagnostics;

/// <summary>
/// How a request ended, as the <c>outcome</c> tag of <c>balancing.request.duration</c> says it. The values up to
/// <see cref="Canceled"/> are those of <see cref="ForwardError"/> (<see cref="Success"/> for
/// <see cref="ForwardError.None"/>), so an error converts by a cast; the others only exist once a response is relayed
/// or when no sender was reached.
/// </summary>
internal enum RequestOutcome
{
    /// <summary>A backend response was relayed whole, whatever its status.</summary>
    Success = ForwardError.None,

    NoAvailableBackend = ForwardError.NoAvailableBackend,

    ConnectFailed = ForwardError.ConnectFailed,

    ConnectTimeout = ForwardError.ConnectTimeout,

    ResponseTimeout = ForwardError.ResponseTimeout,

    BackendProtocolError = ForwardError.BackendProtocolError,

    RequestBodyFailed = ForwardError.RequestBodyFailed,

    /// <summary>The client went away before a backend answered.</summary>
    Canceled = ForwardError.Canceled,

    /// <summary>The client went away while the backend's response was being relayed.</summary>
    ClientDisconnected = 8,

    /// <summary>The backend's response broke after it had started; the client connection was aborted.</summary>
    ResponseAborted = 9,

    /// <summary>The request was routed to a pool that is not configured (any more).</summary>
    PoolNotFound = 10,

    /// <summary>An exception escaped the forwarding (from a handler the app added, for example).</summary>
    InternalError = 11,

    /// <summary>The client was over its rate limit; the balancer answered 429 without trying a backend.</summary>
    RateLimited = 12,

    /// <summary>The balancer refused the request itself before trying a backend: a body declared over the limit, a <c>CONNECT</c>.</summary>
    Refused = 13,
}

/// <summary>One finished request, as the request-level instruments record it.</summary>
/// <param name="Backend">The backend of the final attempt, or <see langword="null"/> when none was tried.</param>
/// <param name="StatusCode">The backend's status code, 429 for a request the rate limiter refused, the balancer's own status for one it refused before trying a backend, or 0 when the balancer answered without a backend response for any other reason.</param>
/// <param name="Outcome">How the request ended.</param>
internal readonly record struct FinishedRequest(BackendState? Backend, int StatusCode, RequestOutcome Outcome)
{
    /// <summary>What is recorded when nothing else was: an exception left the forwarding.</summary>
    public static FinishedRequest Unhandled => new(null, 0, RequestOutcome.InternalError);

    /// <summary>A request routed to a pool that is not configured.</summary>
    public static FinishedRequest PoolNotFound => new(null, 0, RequestOutcome.PoolNotFound);

    /// <summary>A request refused by the rate limiter: recorded with status 429, so its status class is <c>4xx</c>.</summary>
    public static FinishedRequest RateLimited => new(null, 429, RequestOutcome.RateLimited);

    /// <summary>A request the balancer refused with <paramref name="statusCode"/> before trying a backend.</summary>
    /// <param name="statusCode">The status the balancer answered.</param>
    public static FinishedRequest Refused(int statusCode) => new(null, statusCode, RequestOutcome.Refused);

    /// <summary>A request that ended without a backend response.</summary>
    public static FinishedRequest Failed(BackendState? backend, ForwardError error) => new(backend, 0, (RequestOutcome)error);

    /// <summary>A request whose backend response was relayed, ending the way <paramref name="outcome"/> says.</summary>
    public static FinishedRequest Relayed(BackendState? backend, int statusCode, BackendOutcome outcome) => new(backend, statusCode, outcome switch
    {
        BackendOutcome.Canceled => RequestOutcome.ClientDisconnected,
        BackendOutcome.TransportError or BackendOutcome.Timeout => RequestOutcome.ResponseAborted,
        _ => RequestOutcome.Success,
    });
}
