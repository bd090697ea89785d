namespace Balancing;

/// <summary>The state of a backend's circuit breaker (passive health).</summary>
public enum BreakerState
{
    /// <summary>Traffic flows; failures are being counted.</summary>
    Closed = 0,

    /// <summary>The backend failed too often and is ejected: it receives no traffic until the break ends.</summary>
    Open = 1,

    /// <summary>The break ended; the next request is a trial whose success closes the breaker.</summary>
    HalfOpen = 2,
}
