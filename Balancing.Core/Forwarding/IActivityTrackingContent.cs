namespace Balancing.Forwarding;

/// <summary>
/// Request content that reports progress, so the pool's timeout measures inactivity rather than the whole
/// upload: a large body that keeps moving is never cut off, a stalled one is.
/// </summary>
internal interface IActivityTrackingContent
{
    /// <summary>Starts (or, with <see langword="null"/>, stops) pushing <paramref name="timeout"/> back by <paramref name="period"/> on every piece sent.</summary>
    void TrackActivity(CancellationTokenSource? timeout, TimeSpan period);

    /// <summary>Gets a value indicating whether any of the body was read from its source (then it cannot be sent again).</summary>
    bool Started { get; }

    /// <summary>Gets a value indicating whether reading the body from its source (the client) failed or stalled.</summary>
    bool ReadFailed { get; }
}
