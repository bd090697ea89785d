using System.Net;
using Balancing.Configuration;

namespace Balancing.AspNetCore.Forwarding;

/// <summary>The forwarding options, parsed once per configuration (trusted networks as <see cref="IPNetwork"/>).</summary>
internal sealed class ForwardingSettings
{
    private ForwardingSettings(LoadBalancerOptions source)
    {
        Source = source;
        var forwarding = source.Forwarding;
        XForwarded = forwarding.XForwarded;
        MaxRequestBodySize = forwarding.MaxRequestBodySize;
        AllowUnderscoresInHeaders = forwarding.AllowUnderscoresInHeaders;
        var networks = new List<IPNetwork>();
        foreach (var entry in forwarding.TrustedProxies)
        {
            if (LoadBalancerOptionsValidator.TryParseNetwork(entry, out var network))
            {
                networks.Add(network);
            }
        }

        TrustedProxies = [.. networks];
        LogLevel = source.RequestLogging.Level;
    }

    public LoadBalancerOptions Source { get; }

    public XForwardedMode XForwarded { get; }

    public long? MaxRequestBodySize { get; }

    public bool AllowUnderscoresInHeaders { get; }

    public IPNetwork[] TrustedProxies { get; }

    public Microsoft.Extensions.Logging.LogLevel LogLevel { get; }

    public static ForwardingSettings For(LoadBalancerOptions options, ref ForwardingSettings? cache)
    {
        var cached = Volatile.Read(ref cache);
        if (cached is not null && ReferenceEquals(cached.Source, options))
        {
            return cached;
        }

        var created = new ForwardingSettings(options);
        Volatile.Write(ref cache, created);
        return created;
    }

    public bool IsTrustedProxy(IPAddress? address)
    {
        if (address is null || TrustedProxies.Length == 0)
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        foreach (var network in TrustedProxies)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }
}
