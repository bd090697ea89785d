using System.Net;
using Balancing.Pools;
using Microsoft.AspNetCore.Http;

namespace Balancing.AspNetCore.Forwarding;

/// <summary>
/// Describes a request to the pool's strategy: for a <see cref="LoadStrategyNames.ConsistentHash"/> pool, the key its
/// <c>ConsistentHash</c> settings name and the effective client address; for any other pool, just the TCP peer, so
/// other strategies pay nothing for keys.
/// </summary>
internal static class HashKeyReader
{
    public static BalancingContext CreateContext(HttpContext context, ServerPool pool, ForwardingSettings settings)
    {
        if (!string.Equals(pool.Strategy.Name, LoadStrategyNames.ConsistentHash, StringComparison.OrdinalIgnoreCase))
        {
            return new BalancingContext(context.Connection.RemoteIpAddress);
        }

        // Without a key (none configured, or the request lacks it) the strategy hashes the client address instead.
        return new BalancingContext(ClientAddress(context, settings), ReadKey(context.Request, pool.Options.ConsistentHash));
    }

    /// <summary>The key to hash, or <see langword="null"/> for the client address (<see cref="ConsistentHashKey.ClientIp"/>, or the key is missing).</summary>
    public static string? ReadKey(HttpRequest request, ConsistentHashOptions options)
    {
        var key = options.Key switch
        {
            ConsistentHashKey.Header when options.KeyName is { } name => FirstValue(request.Headers, name),
            ConsistentHashKey.Cookie when options.KeyName is { } name => request.Cookies[name],
            ConsistentHashKey.Path => request.Path.Value,
            _ => null,
        };
        return string.IsNullOrEmpty(key) ? null : key;
    }

    /// <summary>
    /// The client's address as the balancer can vouch for it: the TCP peer, unless the peer is a trusted proxy in
    /// <see cref="XForwardedMode.Append"/> mode (the only mode that believes <c>X-Forwarded-For</c>). Then the chain is
    /// read from the right, past every trusted proxy, to the first address that is not one; an entry that is not an
    /// address ends the walk at the last hop that could be vouched for.
    /// </summary>
    public static IPAddress? ClientAddress(HttpContext context, ForwardingSettings settings)
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

    private static string? FirstValue(IHeaderDictionary headers, string name)
    {
        if (!headers.TryGetValue(name, out var values))
        {
            return null;
        }

        foreach (var value in values)
        {
            if (!string.IsNullOrEmpty(value))
            {
                return value;
            }
        }

        return null;
    }
}
