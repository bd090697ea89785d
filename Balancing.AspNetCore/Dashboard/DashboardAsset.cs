using System.Security.Cryptography;

namespace Balancing.AspNetCore.Dashboard;

/// <summary>One file of the dashboard, read once from the assembly's embedded resources.</summary>
internal sealed class DashboardAsset
{
    public DashboardAsset(string name, string contentType, byte[] content)
    {
        Name = name;
        ContentType = contentType;
        Content = content;

        // The content hash names the version: it busts browser caches when the library changes, and is the ETag.
        Version = Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 8));
        ETag = $"\"{Version}\"";
    }

    /// <summary>The file name, as it appears under <c>{pattern}/assets/</c>.</summary>
    public string Name { get; }

    /// <summary>The <c>Content-Type</c> it is served with.</summary>
    public string ContentType { get; }

    /// <summary>The bytes, as embedded.</summary>
    public ReadOnlyMemory<byte> Content { get; }

    /// <summary>Sixteen hex digits of the content's SHA-256.</summary>
    public string Version { get; }

    /// <summary>A strong entity tag made of <see cref="Version"/>.</summary>
    public string ETag { get; }
}
