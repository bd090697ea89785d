namespace Balancing;

/// <summary>The health of a backend as the balancer currently believes it.</summary>
public enum BackendHealth
{
    /// <summary>No evidence yet (no probe has finished). Unknown backends receive traffic.</summary>
    Unknown = 0,

    /// <summary>The backend passed its checks and receives traffic.</summary>
    Healthy = 1,

    /// <summary>The backend failed its checks and receives no new traffic.</summary>
    Unhealthy = 2,
}
