namespace Balancing;

/// <summary>One backend of a pool.</summary>
public sealed class BackendOptions
{
    /// <summary>Gets or sets the backend's absolute http or https address, optionally with a path prefix.</summary>
    /// <value>The default is empty, which is invalid: every backend needs an address.</value>
    public string Address { get; set; } = string.Empty;

    /// <summary>Gets or sets the backend's relative weight; 0 means no new traffic (draining).</summary>
    /// <value>The default is 1.</value>
    public int Weight { get; set; } = 1;
}
