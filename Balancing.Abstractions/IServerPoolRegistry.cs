using System.Diagnostics.CodeAnalysis;

namespace Balancing;

/// <summary>The balancer's pools, as of the current configuration.</summary>
public interface IServerPoolRegistry
{
    /// <summary>Gets every pool.</summary>
    IReadOnlyCollection<IServerPool> Pools { get; }

    /// <summary>Finds a pool by name.</summary>
    /// <param name="name">The pool's name (case-insensitive).</param>
    /// <param name="pool">The pool, when found.</param>
    /// <returns><see langword="true"/> if a pool of that name exists.</returns>
    bool TryGetPool(string name, [NotNullWhen(true)] out IServerPool? pool);
}
