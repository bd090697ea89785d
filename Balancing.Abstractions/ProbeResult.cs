namespace Balancing;

/// <summary>The result of one health probe.</summary>
public readonly record struct ProbeResult
{
    private ProbeResult(bool isHealthy, string? description, Exception? exception)
    {
        IsHealthy = isHealthy;
        Description = description;
        Exception = exception;
    }

    /// <summary>Gets a value indicating whether the backend passed the probe.</summary>
    public bool IsHealthy { get; }

    /// <summary>Gets a short description for logs and the dashboard (for example the status code).</summary>
    public string? Description { get; }

    /// <summary>Gets the exception that made the probe fail, if any.</summary>
    public Exception? Exception { get; }

    /// <summary>Creates a passing result.</summary>
    /// <param name="description">An optional description.</param>
    /// <returns>The result.</returns>
    public static ProbeResult Healthy(string? description = null) => new(true, description, null);

    /// <summary>Creates a failing result.</summary>
    /// <param name="description">Why the probe failed.</param>
    /// <param name="exception">The exception behind the failure, if any.</param>
    /// <returns>The result.</returns>
    public static ProbeResult Unhealthy(string description, Exception? exception = null) => new(false, description, exception);
}
