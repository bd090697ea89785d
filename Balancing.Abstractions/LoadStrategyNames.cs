namespace Balancing;

/// <summary>The names of the built-in load strategies, as used in configuration (<c>Pools:&lt;name&gt;:Strategy</c>).</summary>
public static class LoadStrategyNames
{
    /// <summary>Each backend in turn. Lock-free and allocation-free.</summary>
    public const string RoundRobin = "RoundRobin";
}
