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

    /// <summary>The client's address as the balancer can vouch for it; see <see cref="Forwarding.ClientAddress.Resolve"/>.</summary>
    public static IPAddress? ClientAddress(HttpContext context, ForwardingSettings settings) => Forwarding.ClientAddress.Resolve(context, settings);

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
