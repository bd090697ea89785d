using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;

namespace Balancing.AspNetCore.Affinity;

/// <summary>
/// Turns a backend name and an issue time into an opaque, tamper-proof pin and back, with ASP.NET Core Data Protection
/// (authenticated encryption). The protector's purpose names the pool, so a pin issued for one pool means nothing to
/// another, and a client can neither read which backend it is pinned to nor choose one.
/// </summary>
internal sealed class AffinityProtector
{
    /// <summary>The Data Protection purpose; the pool's name is the sub-purpose.</summary>
    public const string Purpose = "Balancing.SessionAffinity.v1";

    // Far above any real pin (about 100 characters for a short backend name): longer values are refused before any
    // decoding, so a client cannot make the balancer decrypt megabytes.
    private const int MaxValueLength = 1024;

    private const byte FormatVersion = 1;
    private const int HeaderLength = 1 + sizeof(long);

    private readonly IDataProtector _protector;

    public AffinityProtector(IDataProtectionProvider provider, string poolName)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentException.ThrowIfNullOrEmpty(poolName);

        // Pool names are case-insensitive in configuration, purposes are not: instances that spell the name differently
        // must still understand each other's pins.
        _protector = provider.CreateProtector(Purpose, poolName.ToUpperInvariant());
    }

    /// <summary>Protects a pin: a version byte, the issue time in Unix milliseconds, the backend's name in UTF-8; base64url.</summary>
    public string Protect(string backendId, DateTimeOffset issuedAt)
    {
        var payload = new byte[HeaderLength + Encoding.UTF8.GetByteCount(backendId)];
        payload[0] = FormatVersion;
        BinaryPrimitives.WriteInt64BigEndian(payload.AsSpan(1), issuedAt.ToUnixTimeMilliseconds());
        Encoding.UTF8.GetBytes(backendId, payload.AsSpan(HeaderLength));
        return Base64Url.EncodeToString(_protector.Protect(payload));
    }

    /// <summary>
    /// Reads a pin. A value that is not base64url, too long, tampered with, protected for another pool or with a key this
    /// instance does not have, or of an unknown format, gives <see langword="false"/>: never an exception.
    /// </summary>
    public bool TryUnprotect(string? value, out string backendId, out DateTimeOffset issuedAt)
    {
        backendId = string.Empty;
        issuedAt = default;
        if (string.IsNullOrEmpty(value) || value.Length > MaxValueLength || !Base64Url.IsValid(value))
        {
            return false;
        }

        byte[] payload;
        try
        {
            payload = _protector.Unprotect(Base64Url.DecodeFromChars(value));
        }
        catch (CryptographicException)
        {
            return false;
        }

        if (payload.Length <= HeaderLength || payload[0] != FormatVersion)
        {
            return false;
        }

        var milliseconds = BinaryPrimitives.ReadInt64BigEndian(payload.AsSpan(1));
        if (milliseconds < DateTimeOffset.MinValue.ToUnixTimeMilliseconds() || milliseconds > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            return false;
        }

        issuedAt = DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);
        backendId = Encoding.UTF8.GetString(payload.AsSpan(HeaderLength));
        return true;
    }
}
