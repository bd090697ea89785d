using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Balancing.AspNetCore.RateLimiting;

/// <summary>
/// The key a client's requests are counted under: its IPv4 address, or the leading bits of its IPv6 address, as one
/// 128-bit number. A number rather than a string or an <see cref="IPAddress"/>: computing it allocates nothing, and the
/// partition table compares and hashes it cheaply.
/// </summary>
internal static class ClientPartitionKey
{
    /// <summary>The key of requests whose client address is unknown (no TCP peer, as in an in-memory test server): one shared partition.</summary>
    public static readonly UInt128 Unknown = UInt128.Zero;

    // An IPv4 address becomes its IPv4-mapped IPv6 form (::ffff:a.b.c.d), so a dual-stack socket's view of a client and
    // the client itself count as one, and no IPv4 key can collide with a native IPv6 prefix shorter than 96 bits.
    private static readonly UInt128 MappedPrefix = (UInt128)0xFFFF << 32;

    /// <summary>Returns the partition key of <paramref name="address"/>.</summary>
    /// <param name="address">The client address, or <see langword="null"/> when unknown.</param>
    /// <param name="ipv6PrefixLength">How many leading bits of an IPv6 address make one client (1 to 128).</param>
    public static UInt128 For(IPAddress? address, int ipv6PrefixLength)
    {
        if (address is null)
        {
            return Unknown;
        }

        Span<byte> bytes = stackalloc byte[16];
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            address.TryWriteBytes(bytes, out _);
            return MappedPrefix | BinaryPrimitives.ReadUInt32BigEndian(bytes);
        }

        address.TryWriteBytes(bytes, out _);
        var value = BinaryPrimitives.ReadUInt128BigEndian(bytes);
        if (address.IsIPv4MappedToIPv6)
        {
            return value;
        }

        return ipv6PrefixLength >= 128 ? value : value & ~(UInt128.MaxValue >> Math.Max(ipv6PrefixLength, 0));
    }

    /// <summary>The key as an address or network, for logs and tests: <c>203.0.113.9</c> or <c>2001:db8:1:2::/64</c>.</summary>
    public static string Describe(UInt128 key, int ipv6PrefixLength)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, key);
        var address = new IPAddress(bytes);
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4().ToString() : ipv6PrefixLength >= 128 ? address.ToString() : $"{address}/{ipv6PrefixLength}";
    }
}
