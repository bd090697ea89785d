namespace Balancing.Statistics;

/// <summary>
/// The rolling figures of one pool or one backend: requests, errors, retries and ejections per second over the last minute,
/// the latency distribution, and the state of its error-rate alert.
/// </summary>
internal sealed class TrafficStatistics
{
    public SlidingCounter Requests { get; } = new();

    public SlidingCounter Errors { get; } = new();

    /// <summary>Gets the retries of the pool's requests; backends have none (a retry is a pool's decision).</summary>
    public SlidingCounter Retries { get; } = new();

    public SlidingCounter Ejections { get; } = new();

    /// <summary>Gets the requests refused by the rate limiter; pools only (no backend was chosen for them).</summary>
    public SlidingCounter RateLimited { get; } = new();

    public LatencyWindow Latency { get; } = new();

    /// <summary>Gets or sets when the current error-rate alert started, or <see langword="null"/> when none is raised. Clock thread only.</summary>
    public DateTimeOffset? AlertSince { get; set; }

    /// <summary>Records one finished request. Lock-free and allocation-free.</summary>
    /// <param name="seconds">How long it took.</param>
    /// <param name="error">Whether it counts as an error.</param>
    public void RecordRequest(double seconds, bool error)
    {
        Latency.Record(seconds);

        // The two counts may straddle a second boundary now and then; error rates are clamped to 1 when read.
        if (error)
        {
            Errors.Increment();
        }

        Requests.Increment();
    }

    /// <summary>
    /// Ends one second for every counter. Called by one thread at a time. With <paramref name="aggregate"/> (the pool of a
    /// backend), the second's requests, errors and latencies are added to the aggregate's current second too: a request
    /// served by a backend is recorded on the backend only, and its pool's figures are its backends' plus its own,
    /// rolled up here once a second instead of recorded twice per request. Call it for the backends before the pool.
    /// </summary>
    public void Advance(TrafficStatistics? aggregate = null)
    {
        var latencies = Latency.Advance();
        var requests = Requests.Advance();
        var errors = Errors.Advance();
        Retries.Advance();
        Ejections.Advance();
        RateLimited.Advance();
        if (aggregate is null)
        {
            return;
        }

        // A writer that read the old bucket's index just before the switch may still add to it; such a request, a
        // matter of nanoseconds at the second's end, shows on its backend and not in its pool.
        if (latencies is not null)
        {
            aggregate.Latency.Absorb(latencies);
        }

        aggregate.Requests.Add(requests);
        aggregate.Errors.Add(errors);
    }
}
