using Microsoft.Extensions.Primitives;

namespace Balancing.AspNetCore.Caching;

/// <summary>
/// One stored response: status, end-to-end headers, whole body, and what RFC 9111 needs to judge it later (its age when
/// received, its freshness lifetime, its validators). Immutable: a revalidation stores a new one.
/// </summary>
internal sealed class CachedResponse
{
    /// <summary>What a stored response costs beyond its bytes: the objects that hold them.</summary>
    private const int Overhead = 256;

    public CachedResponse(int statusCode, KeyValuePair<string, StringValues>[] headers, byte[] body, ResponseFreshness freshness, string[] vary, string key)
    {
        StatusCode = statusCode;
        Headers = headers;
        Body = body;
        Freshness = freshness;
        Vary = vary;
        Key = key;
        long size = Overhead + body.Length + (key.Length * 2L);
        foreach (var (name, values) in headers)
        {
            size += name.Length * 2L;
            foreach (var value in values)
            {
                size += (value?.Length ?? 0) * 2L;
            }
        }

        Size = size;
    }

    public int StatusCode { get; }

    /// <summary>Gets the end-to-end headers as the backend sent them, without <c>Age</c> (computed on each hit).</summary>
    public KeyValuePair<string, StringValues>[] Headers { get; }

    public byte[] Body { get; }

    public ResponseFreshness Freshness { get; }

    /// <summary>Gets the request headers the response varies on (its <c>Vary</c>), empty when it varies on none.</summary>
    public string[] Vary { get; }

    /// <summary>Gets the key the response is stored under (with its variant part).</summary>
    public string Key { get; }

    /// <summary>Gets the estimated bytes the entry holds, its size in the store.</summary>
    public long Size { get; }

    /// <summary>Returns a copy with the headers and freshness of a revalidation (RFC 9111 §4.3.4).</summary>
    public CachedResponse WithRevalidation(KeyValuePair<string, StringValues>[] headers, ResponseFreshness freshness)
        => new(StatusCode, headers, Body, freshness, Vary, Key);
}
