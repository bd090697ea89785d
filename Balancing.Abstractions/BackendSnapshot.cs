using Microsoft.Extensions.Primitives;

namespace Balancing;

/// <summary>What an <see cref="IBackendSource"/> knows at one moment: backends by pool, and when that stops being true.</summary>
public sealed class BackendSnapshot
{
    /// <summary>Creates a snapshot.</summary>
    /// <param name="pools">The backends, keyed by pool name (matched case-insensitively).</param>
    /// <param name="changeToken">Fires when the source has a newer snapshot.</param>
    public BackendSnapshot(IReadOnlyDictionary<string, IReadOnlyList<DiscoveredBackend>> pools, IChangeToken changeToken)
    {
        ArgumentNullException.ThrowIfNull(pools);
        ArgumentNullException.ThrowIfNull(changeToken);
        Pools = pools;
        ChangeToken = changeToken;
    }

    /// <summary>Gets the backends, keyed by pool name (matched case-insensitively).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<DiscoveredBackend>> Pools { get; }

    /// <summary>Gets the token that fires when the source has a newer snapshot.</summary>
    public IChangeToken ChangeToken { get; }
}
