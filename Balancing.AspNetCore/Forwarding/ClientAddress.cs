using System.Net;
using Microsoft.AspNetCore.Http;

namespace Balancing.AspNetCore.Forwarding;

/// <summary>
/// The one rule for who the client is, shared by every feature that keys on it (consistent hashing, rate limiting), so
/// that they agree with each other and with the <c>X-Forwarded-For</c> the backend receives.
/// </summary>
internal static class ClientAddress
{
    /// <summary>
    /// The client's address as the balancer can vouch for it: the TCP peer, unless the peer is a trusted proxy in
    /// <see cref="XForwardedMode.Append"/> mode (the only mode that believes <c>X-Forwarded-For</c>). Then the chain is
    /// read from the right, past every trusted proxy, to the first address that is not one; an entry that is not an
    /// address ends the walk at the last hop that could be vouched for.
    /// </summary>
    public static IPAddress? Resolve(HttpContext context, ForwardingSettings settings)
    {
        var client = context.Connection.RemoteIpAddress;
        if (settings.XForwarded != XForwardedMode.Append
            || !settings.IsTrustedProxy(client)
            || !context.Request.Headers.TryGetValue(ProxyHeaders.XForwardedFor, out var values))
        {
            return client;
        }

        for (var v = values.Count - 1; v >= 0; v--)
        {
            var rest = values[v].AsSpan();
            while (!rest.IsEmpty)
            {
                var comma = rest.LastIndexOf(',');
                var entry = rest[(comma + 1)..].Trim();
                rest = comma < 0 ? default : rest[..comma];
                if (entry.IsEmpty)
                {
                    continue;
                }

                // "203.0.113.9", "203.0.113.9:51000", "2001:db8::1" and "[2001:db8::1]:51000" all occur in the wild.
                if (!IPEndPoint.TryParse(entry, out var endpoint))
                {
                    return client;
                }

                client = endpoint.Address;
                if (!settings.IsTrustedProxy(client))
                {
                    return client;
                }
            }
        }

        return client;
    }
}
