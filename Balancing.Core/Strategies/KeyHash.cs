using System.IO.Hashing;
using System.Net;
using System.Runtime.InteropServices;

namespace Balancing.Strategies;

/// <summary>
/// Stable 64-bit hashes (XXH64) of request keys and backend names. Stable across processes, machines and restarts, unlike
/// <see cref="string.GetHashCode()"/>, so every balancer instance given the same backends sends a key to the same one.
/// </summary>
internal static class KeyHash
{
    private const long KeySeed = 0;

    /// <summary>Hashes the UTF-16 code units of <paramref name="key"/> (little-endian), without allocating.</summary>
    public static ulong Of(string key) => XxHash64.HashToUInt64(MemoryMarshal.AsBytes(key.AsSpan()), KeySeed);

    /// <summary>Hashes an address's bytes; an IPv4 address mapped into IPv6 hashes as the IPv4 address it is.</summary>
    public static ulong Of(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out var written))
        {
            return 0;
        }

        var used = written == 16 && address.IsIPv4MappedToIPv6 ? bytes[12..] : bytes[..written];
        return XxHash64.HashToUInt64(used, KeySeed);
    }

    /// <summary>Hashes a backend's name, case-insensitively (names are case-insensitive in configuration).</summary>
    public static ulong OfName(string name, long seed)
        => XxHash64.HashToUInt64(MemoryMarshal.AsBytes(name.ToUpperInvariant().AsSpan()), seed);
}
