namespace Balancing;

/// <summary>
/// Settings of the <see cref="LoadStrategyNames.PeakEwma"/> strategy and of the latency estimate every backend keeps
/// (<see cref="BackendState.LatencyEstimate"/>), whatever the pool's strategy.
/// </summary>
public sealed class PeakEwmaOptions
{
    /// <summary>
    /// Gets or sets τ, the time over which a latency sample loses weight: after one <see cref="DecayTime"/> without news a
    /// slow backend's estimate has fallen to 37 % (1/e), after three to 5 %. Shorter reacts faster to recovery and to noise.
    /// </summary>
    /// <value>The default is 10 seconds, the decay Finagle and Linkerd use.</value>
    public TimeSpan DecayTime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets the latency assumed for a backend that has not answered yet: while its first requests are in flight,
    /// each counts as this much. A backend with no sample and nothing in flight costs nothing, so every new backend is tried.
    /// </summary>
    /// <value>
    /// The default is 30 milliseconds, Linkerd's default RTT: slower than a healthy backend nearby, so an unknown backend
    /// takes one request at a time until it has answered, not a flood.
    /// </value>
    public TimeSpan DefaultLatency { get; set; } = TimeSpan.FromMilliseconds(30);
}
