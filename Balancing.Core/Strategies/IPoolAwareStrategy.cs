using Balancing.Pools;

namespace Balancing.Strategies;

/// <summary>
/// A built-in strategy that reads its pool's settings, backends or effective weights (slow start, see <see cref="EffectiveWeights"/>). The pool calls <see cref="PoolUpdated"/> once it has applied a
/// configuration (at creation and after every reload), on the thread applying it, so expensive preparation happens there
/// rather than on a request.
/// </summary>
internal interface IPoolAwareStrategy
{
    /// <summary>Tells the strategy which pool it serves; that pool's options and backends are current.</summary>
    /// <param name="pool">The pool.</param>
    void PoolUpdated(ServerPool pool);
}
