using Microsoft.Net.Http.Headers;

namespace Balancing.AspNetCore.Forwarding;

/// <summary>Which headers cross the proxy, and where they go on an <see cref="HttpRequestMessage"/>.</summary>
internal static class ProxyHeaders
{
    public const string XForwardedFor = "X-Forwarded-For";
    public const string XForwardedProto = "X-Forwarded-Proto";
    public const string XForwardedHost = "X-Forwarded-Host";
    public const string Forwarded = "Forwarded";

    /// <summary>Returns whether a header describes one connection only (RFC 9110 §7.6.1) and so never crosses the proxy.</summary>
    public static bool IsHopByHop(string name) => name.Length switch
    {
        2 => name.Equals(HeaderNames.TE, StringComparison.OrdinalIgnoreCase),
        7 => name.Equals(HeaderNames.Upgrade, StringComparison.OrdinalIgnoreCase),
        10 => name.Equals(HeaderNames.Connection, StringComparison.OrdinalIgnoreCase)
            || name.Equals(HeaderNames.KeepAlive, StringComparison.OrdinalIgnoreCase),
        16 => name.Equals(HeaderNames.ProxyConnection, StringComparison.OrdinalIgnoreCase),
        17 => name.Equals(HeaderNames.TransferEncoding, StringComparison.OrdinalIgnoreCase),
        18 => name.Equals(HeaderNames.ProxyAuthenticate, StringComparison.OrdinalIgnoreCase),
        19 => name.Equals(HeaderNames.ProxyAuthorization, StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    /// <summary>Returns whether a header belongs on <see cref="HttpContent.Headers"/> rather than the request's or response's own.</summary>
    public static bool IsContentHeader(string name) => name.Length switch
    {
        5 => name.Equals(HeaderNames.Allow, StringComparison.OrdinalIgnoreCase),
        7 => name.Equals(HeaderNames.Expires, StringComparison.OrdinalIgnoreCase),
        11 => name.Equals(HeaderNames.ContentMD5, StringComparison.OrdinalIgnoreCase),
        12 => name.Equals(HeaderNames.ContentType, StringComparison.OrdinalIgnoreCase),
        13 => name.Equals(HeaderNames.ContentRange, StringComparison.OrdinalIgnoreCase)
            || name.Equals(HeaderNames.LastModified, StringComparison.OrdinalIgnoreCase),
        14 => name.Equals(HeaderNames.ContentLength, StringComparison.OrdinalIgnoreCase),
        16 => name.Equals(HeaderNames.ContentEncoding, StringComparison.OrdinalIgnoreCase)
            || name.Equals(HeaderNames.ContentLanguage, StringComparison.OrdinalIgnoreCase)
            || name.Equals(HeaderNames.ContentLocation, StringComparison.OrdinalIgnoreCase),
        19 => name.Equals(HeaderNames.ContentDisposition, StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    /// <summary>Returns whether a header is one of the <c>X-Forwarded-*</c>/<c>Forwarded</c> headers the balancer owns.</summary>
    public static bool IsForwardingHeader(string name)
        => name.Equals(XForwardedFor, StringComparison.OrdinalIgnoreCase)
        || name.Equals(XForwardedProto, StringComparison.OrdinalIgnoreCase)
        || name.Equals(XForwardedHost, StringComparison.OrdinalIgnoreCase)
        || name.Equals(Forwarded, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Collects the extra header names a <c>Connection</c> header lists (RFC 9110 §7.6.1): they are hop-by-hop
    /// for this message. Returns <see langword="null"/> in the common case of none, so nothing is allocated.
    /// </summary>
    public static HashSet<string>? ParseConnectionTokens(IEnumerable<string?> connectionValues)
    {
        HashSet<string>? names = null;
        foreach (var value in connectionValues)
        {
            if (string.IsNullOrEmpty(value))
            {
                continue;
            }

            foreach (var range in value.AsSpan().Split(','))
            {
                var token = value.AsSpan()[range].Trim();
                if (token.IsEmpty
                    || token.Equals("close", StringComparison.OrdinalIgnoreCase)
                    || token.Equals("keep-alive", StringComparison.OrdinalIgnoreCase)
                    || token.Equals("upgrade", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                names ??= new HashSet<string>(StringComparer.OrdinalIgnoreCase);
                names.Add(token.ToString());
            }
        }

        return names;
    }
}
