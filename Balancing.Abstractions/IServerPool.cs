using System.Collections.Immutable;

namespace Balancing;

/// <summary>A named set of backends that share a strategy and settings.</summary>
/// <remarks>
/// The arrays returned are immutable snapshots, swapped atomically when the pool changes (reload, health change);
/// reading them never takes a lock or allocates.
/// </remarks>
public interface IServerPool
{
    /// <summary>Gets the pool's name.</summary>
    string Name { get; }

    /// <summary>Gets the strategy that chooses among the pool's backends.</summary>
    ILoadStrategy Strategy { get; }

    /// <summary>Gets every backend of the pool, in configuration order.</summary>
    ImmutableArray<BackendState> Backends { get; }

    /// <summary>Gets the backends that may receive new requests (see <see cref="BackendState.IsAvailable"/>).</summary>
    ImmutableArray<BackendState> AvailableBackends { get; }

    /// <summary>Finds a backend by name.</summary>
    /// <param name="id">The backend's name (case-insensitive).</param>
    /// <returns>The backend, or <see langword="null"/> if the pool has none by that name.</returns>
    BackendState? FindBackend(string id);
}
