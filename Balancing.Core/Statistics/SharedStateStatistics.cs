namespace Balancing;

/// <summary>
/// The state of a store the balancer shares with its other instances (Redis, with Balancing.Redis): whether it answers,
/// since when, and how many outages it had.
/// </summary>
public sealed record SharedStateStatistics
{
    /// <summary>Gets the store's name, for example <c>redis</c>.</summary>
    public required string Store { get; init; }

    /// <summary>Gets a value indicating whether the store answered the last time it was asked. While it does not, shared limits and the shared cache are per instance.</summary>
    public required bool Available { get; init; }

    /// <summary>Gets when the store became available, or unavailable, as <see cref="Available"/> says.</summary>
    public required DateTimeOffset Since { get; init; }

    /// <summary>Gets how many outages began since the balancer started.</summary>
    public required long Outages { get; init; }
}
