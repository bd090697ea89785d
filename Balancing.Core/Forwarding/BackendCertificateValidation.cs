using System.Collections.Frozen;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Balancing.Pools;

namespace Balancing.Forwarding;

/// <summary>
/// Validates backend certificates for the one shared connection handler, by the rules of the pool whose backend is on
/// the other end: the machine's trusted roots by default, or a pool's private certificate authority
/// (<c>Tls:CaCertificatePath</c>) and expected name (<c>Tls:ServerName</c>). It runs once per new TLS connection.
/// </summary>
/// <remarks>
/// The handler's callback sees the connection, not the request, so the pool is found by the TLS target host, which is the
/// host of the backend's address. The validator makes sure that host means one set of rules: pools that share a backend
/// host must share their <c>Tls</c> settings, and a pool with its own settings cannot send the client's <c>Host</c>
/// (which would become the TLS name).
/// </remarks>
internal sealed class BackendCertificateValidation
{
    private readonly ServerPoolRegistry _registry;
    private Rules? _rules;

    public BackendCertificateValidation(ServerPoolRegistry registry) => _registry = registry;

    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        var host = (sender as SslStream)?.TargetHostName;
        var profile = host is null ? null : CurrentRules().Find(host);
        if (profile is null)
        {
            return errors == SslPolicyErrors.None;
        }

        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return false;
        }

        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        var nameMatches = profile.ServerName is { } name
            ? leaf.MatchesHostname(name)
            : (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0;
        if (!nameMatches)
        {
            return false;
        }

        if (profile.Authorities is null)
        {
            return (errors & SslPolicyErrors.RemoteCertificateChainErrors) == 0;
        }

        // The chain is built again against the pool's authorities only: the machine's roots do not count.
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(profile.Authorities);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        custom.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.1"));
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return custom.Build(leaf);
    }

    /// <summary>Reads the PEM file of a private authority; <see langword="null"/> and a reason when it holds no usable certificate.</summary>
    public static X509Certificate2Collection? LoadAuthorities(string path, out string? problem)
    {
        try
        {
            var authorities = new X509Certificate2Collection();
            authorities.ImportFromPemFile(path);
            problem = authorities.Count == 0 ? "holds no PEM certificate (-----BEGIN CERTIFICATE-----)" : null;
            return problem is null ? authorities : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException or NotSupportedException)
        {
            problem = ex.Message;
            return null;
        }
    }

    /// <summary>The host a backend address presents as its TLS target name.</summary>
    public static string? TlsHost(string address)
        => Uri.TryCreate(address, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps ? uri.IdnHost : null;

    private Rules CurrentRules()
    {
        var options = _registry.Options;
        var rules = Volatile.Read(ref _rules);
        if (rules is null || !ReferenceEquals(rules.Source, options))
        {
            rules = Rules.Build(options);
            Volatile.Write(ref _rules, rules);
        }

        return rules;
    }

    private sealed record Profile(X509Certificate2Collection? Authorities, string? ServerName);

    private sealed class Rules
    {
        private readonly FrozenDictionary<string, Profile> _byHost;

        private Rules(LoadBalancerOptions source, FrozenDictionary<string, Profile> byHost)
        {
            Source = source;
            _byHost = byHost;
        }

        public LoadBalancerOptions Source { get; }

        public Profile? Find(string host) => _byHost.Count == 0 ? null : _byHost.GetValueOrDefault(host.Trim('[', ']'));

        public static Rules Build(LoadBalancerOptions options)
        {
            var byHost = new Dictionary<string, Profile>(StringComparer.OrdinalIgnoreCase);
            foreach (var pool in options.Pools.Values)
            {
                var tls = pool.Tls;
                if (tls.CaCertificatePath is null && tls.ServerName is null)
                {
                    continue;
                }

                var authorities = tls.CaCertificatePath is { } path ? LoadAuthorities(path, out _) : null;
                if (tls.CaCertificatePath is not null && authorities is null)
                {
                    // The file was readable when the configuration was checked; if it is not now, trust nothing.
                    authorities = [];
                }

                var profile = new Profile(authorities, tls.ServerName);
                foreach (var backend in pool.Backends.Values)
                {
                    if (backend.Address is { } address && TlsHost(address) is { } host)
                    {
                        byHost[host.Trim('[', ']')] = profile;
                    }
                }
            }

            return new Rules(options, byHost.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase));
        }
    }
}
