namespace Balancing;

/// <summary>Requests and errors over a sliding window of whole seconds.</summary>
/// <remarks>
/// An error is a backend response with a 5xx status, or a request that got no backend response for any reason other
/// than its client going away: no backend available, connect failure, timeout, a response that broke off. A request
/// whose client went away counts as a request, not as an error.
/// </remarks>
public sealed record WindowStatistics
{
    /// <summary>Gets the length of the window: that many of the most recent completed seconds.</summary>
    public required TimeSpan Window { get; init; }

    /// <summary>Gets the requests that finished within the window.</summary>
    public required long Requests { get; init; }

    /// <summary>Gets how many of them were errors.</summary>
    public required long Errors { get; init; }

    /// <summary>Gets <see cref="Requests"/> divided by the window's length in seconds.</summary>
    public required double RequestsPerSecond { get; init; }

    /// <summary>Gets <see cref="Errors"/> divided by <see cref="Requests"/>, from 0 to 1; 0 when there were no requests.</summary>
    public required double ErrorRate { get; init; }
}
