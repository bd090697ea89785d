namespace Balancing;

/// <summary>How one request to a backend ended, from the balancer's point of view.</summary>
public enum BackendOutcome
{
    /// <summary>No request has completed yet.</summary>
    None = 0,

    /// <summary>The backend answered with a status code that does not count as a failure.</summary>
    Success = 1,

    /// <summary>The backend answered with a status code that counts as a failure (5xx by default).</summary>
    FailureStatus = 2,

    /// <summary>The connection could not be made or broke (refused, reset, protocol error, response cut short).</summary>
    TransportError = 3,

    /// <summary>The backend did not answer in time.</summary>
    Timeout = 4,

    /// <summary>The client went away or the request was cancelled; says nothing about the backend.</summary>
    Canceled = 5,
}
