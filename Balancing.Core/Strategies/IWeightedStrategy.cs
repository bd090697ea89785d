namespace Balancing.Strategies;

/// <summary>A built-in strategy that weighs backends: its pool hands it the pool's <see cref="EffectiveWeights"/>.</summary>
internal interface IWeightedStrategy
{
    /// <summary>Makes the strategy read weights, slow-start ramps and change versions from <paramref name="weights"/>.</summary>
    /// <param name="weights">The pool's weights; a strategy belongs to one pool.</param>
    void UseWeights(EffectiveWeights weights);
}
