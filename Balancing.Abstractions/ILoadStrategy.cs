namespace Balancing;

/// <summary>Chooses the backend that receives a request.</summary>
/// <remarks>
/// A pool owns its own strategy instance, so a strategy may keep per-pool state (a round-robin counter).
/// <see cref="Pick"/> is called on the hot path, from many threads at once: it must not block, and
/// should not allocate.
/// </remarks>
public interface ILoadStrategy
{
    /// <summary>Gets the name this strategy is chosen by in configuration.</summary>
    string Name { get; }

    /// <summary>Chooses one of <paramref name="candidates"/>.</summary>
    /// <param name="candidates">The backends that may receive the request: available, and not already tried. Never empty.</param>
    /// <param name="context">What is known about the request.</param>
    /// <returns>The chosen backend, or <see langword="null"/> to refuse the request (the balancer answers 503).</returns>
    BackendState? Pick(ReadOnlySpan<BackendState> candidates, in BalancingContext context);
}
