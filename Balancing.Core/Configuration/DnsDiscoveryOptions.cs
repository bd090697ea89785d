namespace Balancing;

/// <summary>How a pool resolves its DNS-discovered backends (see docs/DISCOVERY.md).</summary>
public sealed class DnsDiscoveryOptions
{
    /// <summary>The shortest <see cref="RefreshInterval"/> allowed: resolving more often only loads the DNS server.</summary>
    public static readonly TimeSpan MinRefreshInterval = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how often each name is resolved again. A failed resolution is retried at the same pace.</summary>
    /// <value>The default is 30 seconds. At least 1 second, at most 1 day.</value>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets which records become backends.</summary>
    /// <value>The default is <see cref="DnsAddressFamily.Any"/>: both A and AAAA records.</value>
    public DnsAddressFamily AddressFamily { get; set; } = DnsAddressFamily.Any;
}

/// <summary>Which addresses of a name become backends.</summary>
public enum DnsAddressFamily
{
    /// <summary>IPv4 and IPv6 addresses (A and AAAA records).</summary>
    Any,

    /// <summary>IPv4 addresses only (A records).</summary>
    IPv4,

    /// <summary>IPv6 addresses only (AAAA records).</summary>
    IPv6,
}
