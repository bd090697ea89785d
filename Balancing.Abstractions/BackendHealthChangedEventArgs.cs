namespace Balancing;

/// <summary>Describes a change of <see cref="BackendState.Health"/>.</summary>
public sealed class BackendHealthChangedEventArgs : EventArgs
{
    /// <summary>Creates the event arguments.</summary>
    /// <param name="previous">The health before the change.</param>
    /// <param name="current">The health after the change.</param>
    /// <param name="reason">Why the health changed, for logs; may be <see langword="null"/>.</param>
    public BackendHealthChangedEventArgs(BackendHealth previous, BackendHealth current, string? reason)
    {
        Previous = previous;
        Current = current;
        Reason = reason;
    }

    /// <summary>Gets the health before the change.</summary>
    public BackendHealth Previous { get; }

    /// <summary>Gets the health after the change.</summary>
    public BackendHealth Current { get; }

    /// <summary>Gets why the health changed, or <see langword="null"/>.</summary>
    public string? Reason { get; }
}
