namespace Balancing;

/// <summary>Why a balanced send produced no response.</summary>
public enum ForwardError
{
    /// <summary>A backend answered; see <see cref="BalancedResponse.Response"/>.</summary>
    None = 0,

    /// <summary>The pool had no available backend, or its strategy refused the request. Maps to 503.</summary>
    NoAvailableBackend = 1,

    /// <summary>The connection to the backend could not be made (refused, unreachable, DNS, TLS). The request never reached it. Maps to 502.</summary>
    ConnectFailed = 2,

    /// <summary>The connection could not be made within the connect timeout. The request never reached the backend. Maps to 504.</summary>
    ConnectTimeout = 3,

    /// <summary>The backend did not send response headers within the pool's timeout. Maps to 504.</summary>
    ResponseTimeout = 4,

    /// <summary>The backend broke the exchange: reset, closed early or sent an invalid response. Maps to 502.</summary>
    BackendProtocolError = 5,

    /// <summary>
    /// The request body could not be read from the client: it stalled past the pool's timeout (408), exceeded the
    /// size limit (413) or was malformed (400). Says nothing about the backend.
    /// </summary>
    RequestBodyFailed = 6,

    /// <summary>The caller cancelled the request (the client went away). Nothing is written.</summary>
    Canceled = 7,
}
