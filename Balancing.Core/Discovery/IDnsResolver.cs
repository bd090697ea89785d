using System.Net;
using System.Net.Sockets;

namespace Balancing.Discovery;

/// <summary>Resolves a host name to its addresses. The default asks the operating system; tests replace it.</summary>
internal interface IDnsResolver
{
    /// <summary>Gets the addresses of <paramref name="host"/>.</summary>
    /// <param name="host">The host name (or an IP literal, which resolves to itself).</param>
    /// <param name="family"><see cref="AddressFamily.Unspecified"/> for IPv4 and IPv6, or one of them.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The addresses, possibly none.</returns>
    Task<IPAddress[]> ResolveAsync(string host, AddressFamily family, CancellationToken cancellationToken);
}

/// <summary><see cref="Dns.GetHostAddressesAsync(string, AddressFamily, CancellationToken)"/>: the system resolver, hosts file included.</summary>
internal sealed class SystemDnsResolver : IDnsResolver
{
    public Task<IPAddress[]> ResolveAsync(string host, AddressFamily family, CancellationToken cancellationToken)
        => Dns.GetHostAddressesAsync(host, family, cancellationToken);
}
