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

    /// <summary>
    /// Gets or sets how the address is turned into backends. With <see cref="BackendDiscovery.Dns"/> the host name of
    /// <see cref="Address"/> is resolved to all its A/AAAA records, refreshed every <see cref="DnsDiscoveryOptions.RefreshInterval"/>
    /// of the pool, and each address becomes a backend named <c>{id}/{ip}:{port}</c> (see docs/DISCOVERY.md).
    /// </summary>
    /// <value>The default is <see cref="BackendDiscovery.Static"/>: the address is one backend, used as written.</value>
    public BackendDiscovery Discovery { get; set; } = BackendDiscovery.Static;
}

/// <summary>How a configured backend's address is turned into backends.</summary>
public enum BackendDiscovery
{
    /// <summary>The address is one backend, used as written (a host name is resolved by each connection).</summary>
    Static,

    /// <summary>The host name is resolved to all its addresses, refreshed periodically; each address is a backend.</summary>
    Dns,
}
