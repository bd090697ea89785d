using System.Net;
using Balancing.Health;
using Balancing.Strategies;

namespace Balancing.Configuration;

/// <summary>
/// Checks a whole <see cref="LoadBalancerOptions"/> and collects every error, each prefixed with the
/// configuration key it concerns (<c>LoadBalancer:Pools:default:Backends:b1:Address</c>), so a typo fails
/// start-up with the key to fix rather than a stack trace.
/// </summary>
internal sealed class LoadBalancerOptionsValidator
{
    private readonly LoadStrategyRegistry _strategies;
    private readonly HealthProbeRegistry? _probes;
    private readonly ILoadBalancerOptionsRule[] _rules;

    /// <param name="strategies">The strategies that may be chosen.</param>
    /// <param name="probes">The health probes that may be chosen; <see langword="null"/> for the built-in ones only.</param>
    /// <param name="rules">Rules other parts of the balancer contribute (the front door's route templates).</param>
    public LoadBalancerOptionsValidator(LoadStrategyRegistry strategies, HealthProbeRegistry? probes = null, IEnumerable<ILoadBalancerOptionsRule>? rules = null)
    {
        _strategies = strategies;
        _probes = probes;
        _rules = rules?.ToArray() ?? [];
    }

    /// <param name="options">The bound configuration.</param>
    /// <param name="sectionPath">The section's path, for messages.</param>
    /// <param name="mountedPools">The pools the app forwards to: they must exist and have backends.</param>
    /// <param name="fedBySource">Whether a backend source supplies a pool's backends, which then needs none configured.</param>
    public List<string> Validate(LoadBalancerOptions options, string sectionPath, IEnumerable<string> mountedPools, Func<string, bool>? fedBySource = null)
    {
        var errors = new List<string>();
        foreach (var (poolName, pool) in options.Pools)
        {
            ValidatePool(pool, $"{sectionPath}:Pools:{poolName}", errors);
        }

        foreach (var mounted in mountedPools)
        {
            if (!options.Pools.TryGetValue(mounted, out var pool))
            {
                errors.Add($"{sectionPath}:Pools:{mounted}: pool '{mounted}' is mounted by the app but is not configured.");
            }
            else if (pool.Backends.Count == 0 && fedBySource?.Invoke(mounted) != true)
            {
                errors.Add($"{sectionPath}:Pools:{mounted}:Backends: pool '{mounted}' is mounted by the app but has no backends.");
            }
        }

        ValidateTls(options, $"{sectionPath}:Pools", errors);

        var forwarding = $"{sectionPath}:Forwarding";
        if (!Enum.IsDefined(options.Forwarding.XForwarded))
        {
            errors.Add($"{forwarding}:XForwarded: '{options.Forwarding.XForwarded}' is not one of {string.Join(", ", Enum.GetNames<XForwardedMode>())}.");
        }

        for (var i = 0; i < options.Forwarding.TrustedProxies.Count; i++)
        {
            var entry = options.Forwarding.TrustedProxies[i];
            if (!TryParseNetwork(entry, out _))
            {
                errors.Add($"{forwarding}:TrustedProxies:{i}: '{entry}' is neither an IP address nor a CIDR network such as 10.0.0.0/8.");
            }
        }

        if (options.Forwarding.MaxRequestBodySize is < 0)
        {
            errors.Add($"{forwarding}:MaxRequestBodySize: must be 0 or more bytes, or empty for the server's limit.");
        }

        if (!Enum.IsDefined(options.RequestLogging.Level))
        {
            errors.Add($"{sectionPath}:RequestLogging:Level: '{options.RequestLogging.Level}' is not one of {string.Join(", ", Enum.GetNames<Microsoft.Extensions.Logging.LogLevel>())}.");
        }

        var connections = $"{sectionPath}:Connections";
        RequirePositive(options.Connections.ConnectTimeout, $"{connections}:ConnectTimeout", errors);
        RequirePositive(options.Connections.PooledConnectionIdleTimeout, $"{connections}:PooledConnectionIdleTimeout", errors);
        RequirePositive(options.Connections.PooledConnectionLifetime, $"{connections}:PooledConnectionLifetime", errors);
        if (options.Connections.MaxConnectionsPerServer < 1)
        {
            errors.Add($"{connections}:MaxConnectionsPerServer: must be at least 1.");
        }

        Routing.RouteOptionsValidator.Validate(options, sectionPath, errors);
        Statistics.MonitoringOptionsValidator.Validate(options.Monitoring, $"{sectionPath}:Monitoring", errors);
        RateLimitingOptionsValidator.Validate(options, sectionPath, errors);
        CachingOptionsValidator.Validate(options.Caching, $"{sectionPath}:Caching", errors);
        foreach (var rule in _rules)
        {
            rule.Validate(options, sectionPath, errors);
        }

        return errors;
    }

    /// <summary>Parses an IP address or a CIDR network; a bare address becomes a network of one.</summary>
    public static bool TryParseNetwork(string? value, out IPNetwork network)
    {
        network = default;
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        value = value.Trim();
        var slash = value.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? value : value[..slash];

        // IPAddress.TryParse takes "10.0.0" as 10.0.0.0; someone who wrote that meant a network, so ask for all four parts.
        if (!addressText.Contains(':', StringComparison.Ordinal) && addressText.Count(c => c == '.') != 3)
        {
            return false;
        }

        if (slash >= 0)
        {
            return IPNetwork.TryParse(value, out network);
        }

        if (!IPAddress.TryParse(value, out var address))
        {
            return false;
        }

        network = new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
        return true;
    }

    private void ValidatePool(PoolOptions pool, string path, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(pool.Strategy) || !_strategies.Contains(pool.Strategy))
        {
            errors.Add($"{path}:Strategy: unknown strategy '{pool.Strategy}'; known strategies are {string.Join(", ", _strategies.Names)}.");
        }

        RequirePositive(pool.Timeout, $"{path}:Timeout", errors);
        if (pool.SlowStart < TimeSpan.Zero || pool.SlowStart > MaxTimeout)
        {
            errors.Add($"{path}:SlowStart: must be from 00:00:00 (off) to {MaxTimeout}, not {pool.SlowStart}.");
        }

        if (!TryParseHttpVersion(pool.HttpVersion, out _))
        {
            errors.Add($"{path}:HttpVersion: '{pool.HttpVersion}' is not one of 1.0, 1.1, 2 (or 2.0), 3 (or 3.0).");
        }

        RequirePositive(pool.WebSockets.IdleTimeout, $"{path}:WebSockets:IdleTimeout", errors);
        ValidateRetry(pool.Retry, $"{path}:Retry", errors);
        ValidatePassive(pool.HealthCheck.Passive, $"{path}:HealthCheck:Passive", errors);
        if (double.IsNaN(pool.HealthCheck.PanicThreshold) || pool.HealthCheck.PanicThreshold is < 0 or > 1)
        {
            errors.Add($"{path}:HealthCheck:PanicThreshold: must be from 0 (never panic) to 1, not {pool.HealthCheck.PanicThreshold}.");
        }

        if (!Enum.IsDefined(pool.HealthCheck.WhenTooFewHealthy))
        {
            errors.Add($"{path}:HealthCheck:WhenTooFewHealthy: '{pool.HealthCheck.WhenTooFewHealthy}' is not one of {string.Join(", ", Enum.GetNames<TooFewHealthyPolicy>())}.");
        }

        if (!Enum.IsDefined(pool.VersionPolicy))
        {
            errors.Add($"{path}:VersionPolicy: '{pool.VersionPolicy}' is not one of {string.Join(", ", Enum.GetNames<HttpVersionPolicy>())}.");
        }

        HealthCheckOptionsValidator.Validate(pool.HealthCheck, $"{path}:HealthCheck", _probes?.Names ?? HealthProbeRegistry.BuiltInNames, errors);
        SessionAffinityOptionsValidator.Validate(pool.SessionAffinity, $"{path}:SessionAffinity", errors);
        LoadAwareOptionsValidator.Validate(pool, path, errors);

        foreach (var (backendName, backend) in pool.Backends)
        {
            var backendPath = $"{path}:Backends:{backendName}";
            if (string.IsNullOrWhiteSpace(backend.Address))
            {
                errors.Add($"{backendPath}:Address: is required.");
            }
            else if (!TryParseAddress(backend.Address, out _))
            {
                errors.Add($"{backendPath}:Address: '{backend.Address}' is not an absolute http or https URL without query or fragment.");
            }

            if (backend.Weight < 0)
            {
                errors.Add($"{backendPath}:Weight: must be 0 or more (0 drains the backend), not {backend.Weight}.");
            }

            if (!Enum.IsDefined(backend.Discovery))
            {
                errors.Add($"{backendPath}:Discovery: '{backend.Discovery}' is not one of {string.Join(", ", Enum.GetNames<BackendDiscovery>())}.");
            }
        }

        ValidateDns(pool.Dns, $"{path}:Dns", errors);
    }

    private static void ValidateDns(DnsDiscoveryOptions dns, string path, List<string> errors)
    {
        if (dns.RefreshInterval < DnsDiscoveryOptions.MinRefreshInterval || dns.RefreshInterval > TimeSpan.FromDays(1))
        {
            errors.Add($"{path}:RefreshInterval: must be from {DnsDiscoveryOptions.MinRefreshInterval} to 1.00:00:00, not {dns.RefreshInterval}.");
        }

        if (!Enum.IsDefined(dns.AddressFamily))
        {
            errors.Add($"{path}:AddressFamily: '{dns.AddressFamily}' is not one of {string.Join(", ", Enum.GetNames<DnsAddressFamily>())}.");
        }
    }

    private static void ValidatePassive(PassiveHealthCheckOptions passive, string path, List<string> errors)
    {
        if (passive.ConsecutiveFailures < 2)
        {
            errors.Add($"{path}:ConsecutiveFailures: must be at least 2, not {passive.ConsecutiveFailures}.");
        }

        if (double.IsNaN(passive.FailureRatio) || passive.FailureRatio is <= 0 or > 1)
        {
            errors.Add($"{path}:FailureRatio: must be above 0 and at most 1, not {passive.FailureRatio}.");
        }

        if (passive.MinimumThroughput < 2)
        {
            errors.Add($"{path}:MinimumThroughput: must be at least 2, not {passive.MinimumThroughput}.");
        }

        if (passive.SamplingDuration < TimeSpan.FromMilliseconds(500) || passive.SamplingDuration > TimeSpan.FromDays(1))
        {
            errors.Add($"{path}:SamplingDuration: must be from 00:00:00.5 to 1.00:00:00, not {passive.SamplingDuration}.");
        }

        if (passive.BaseEjectionTime < TimeSpan.FromMilliseconds(500) || passive.BaseEjectionTime > TimeSpan.FromDays(1))
        {
            errors.Add($"{path}:BaseEjectionTime: must be from 00:00:00.5 to 1.00:00:00, not {passive.BaseEjectionTime}.");
        }

        if (passive.MaxEjectionTime < passive.BaseEjectionTime || passive.MaxEjectionTime > TimeSpan.FromDays(1))
        {
            errors.Add($"{path}:MaxEjectionTime: must be from BaseEjectionTime ({passive.BaseEjectionTime}) to 1.00:00:00, not {passive.MaxEjectionTime}.");
        }

        if (passive.MaxEjectionPercent is < 0 or > 100)
        {
            errors.Add($"{path}:MaxEjectionPercent: must be from 0 to 100, not {passive.MaxEjectionPercent}.");
        }

        if (!Health.HealthStatusCodes.TryParse(passive.FailureStatusCodes, out _, allowEmpty: true))
        {
            errors.Add($"{path}:FailureStatusCodes: '{passive.FailureStatusCodes}' is not a list of status codes and ranges such as 500-599 or 502,503.");
        }
    }

    private static void ValidateRetry(RetryOptions retry, string path, List<string> errors)
    {
        if (retry.MaxAttempts is < 1 or > 10)
        {
            errors.Add($"{path}:MaxAttempts: must be from 1 (no retry) to 10, not {retry.MaxAttempts}.");
        }

        if (retry.Delay < TimeSpan.Zero || retry.Delay > TimeSpan.FromDays(1))
        {
            errors.Add($"{path}:Delay: must be from 00:00:00 to 1.00:00:00, not {retry.Delay}.");
        }

        if (retry.MaxDelay < retry.Delay || retry.MaxDelay > TimeSpan.FromDays(1))
        {
            errors.Add($"{path}:MaxDelay: must be from Delay ({retry.Delay}) to 1.00:00:00, not {retry.MaxDelay}.");
        }

        // Polly's timeout strategy takes 10 ms to 1 day.
        if (retry.TotalTimeout is { } total && total != System.Threading.Timeout.InfiniteTimeSpan
            && (total < TimeSpan.FromMilliseconds(10) || total > TimeSpan.FromDays(1)))
        {
            errors.Add($"{path}:TotalTimeout: must be from 00:00:00.010 to 1.00:00:00 (or empty for none), not {total}.");
        }

        if (!Health.HealthStatusCodes.TryParse(retry.RetryOnStatusCodes, out _, allowEmpty: true))
        {
            errors.Add($"{path}:RetryOnStatusCodes: '{retry.RetryOnStatusCodes}' is not a comma-separated list of status codes (100-599), for example 502,503,504.");
        }

        if (double.IsNaN(retry.BudgetRatio) || retry.BudgetRatio is < 0 or > 1)
        {
            errors.Add($"{path}:BudgetRatio: must be from 0 to 1, not {retry.BudgetRatio}.");
        }

        if (retry.MaxBufferedBodySize is < 0 or > 16 * 1024 * 1024)
        {
            errors.Add($"{path}:MaxBufferedBodySize: must be from 0 to 16777216 bytes, not {retry.MaxBufferedBodySize}.");
        }

        if (retry.MinRetryConcurrency < 0)
        {
            errors.Add($"{path}:MinRetryConcurrency: must be 0 or more, not {retry.MinRetryConcurrency}.");
        }
    }

    public static bool TryParseHttpVersion(string? value, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Version? version)
    {
        version = value?.Trim() switch
        {
            "1.0" => System.Net.HttpVersion.Version10,
            "1.1" => System.Net.HttpVersion.Version11,
            "2" or "2.0" => System.Net.HttpVersion.Version20,
            "3" or "3.0" => System.Net.HttpVersion.Version30,
            _ => null,
        };
        return version is not null;
    }

    public static bool TryParseAddress(string value, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Uri? address)
    {
        if (Uri.TryCreate(value, UriKind.Absolute, out address)
            && (address.Scheme == Uri.UriSchemeHttp || address.Scheme == Uri.UriSchemeHttps)
            && !string.IsNullOrEmpty(address.Host)
            && string.IsNullOrEmpty(address.Query)
            && string.IsNullOrEmpty(address.Fragment)
            && string.IsNullOrEmpty(address.UserInfo))
        {
            return true;
        }

        address = null;
        return false;
    }

    /// <summary>
    /// A pool's <c>Tls</c> settings: the authority file must hold certificates, and since certificates are checked per
    /// TLS host (see <see cref="Forwarding.BackendCertificateValidation"/>), one host must mean one set of settings.
    /// </summary>
    private static void ValidateTls(LoadBalancerOptions options, string poolsPath, List<string> errors)
    {
        var owners = new Dictionary<string, (string Pool, BackendTlsOptions Tls)>(StringComparer.OrdinalIgnoreCase);
        foreach (var (poolName, pool) in options.Pools)
        {
            var tls = pool.Tls;
            var path = $"{poolsPath}:{poolName}:Tls";
            var custom = tls.CaCertificatePath is not null || tls.ServerName is not null;
            if (tls.CaCertificatePath is { } file)
            {
                if (string.IsNullOrWhiteSpace(file) || !File.Exists(file))
                {
                    errors.Add($"{path}:CaCertificatePath: the file '{file}' does not exist.");
                }
                else if (Forwarding.BackendCertificateValidation.LoadAuthorities(file, out var problem) is null)
                {
                    errors.Add($"{path}:CaCertificatePath: '{file}' {problem}.");
                }
            }

            if (tls.ServerName is { } name && Uri.CheckHostName(name) is UriHostNameType.Unknown or UriHostNameType.Basic)
            {
                errors.Add($"{path}:ServerName: '{name}' is not a host name.");
            }

            if (custom && pool.PreserveHostHeader)
            {
                errors.Add($"{path}: cannot be combined with {poolsPath}:{poolName}:PreserveHostHeader, which makes the client's host the TLS name.");
            }

            foreach (var backend in pool.Backends.Values)
            {
                if (backend.Address is not { } address || Forwarding.BackendCertificateValidation.TlsHost(address) is not { } host)
                {
                    continue;
                }

                if (!owners.TryGetValue(host, out var owner))
                {
                    owners[host] = (poolName, tls);
                }
                else if (!string.Equals(owner.Pool, poolName, StringComparison.OrdinalIgnoreCase)
                    && (owner.Tls.CaCertificatePath != tls.CaCertificatePath || !string.Equals(owner.Tls.ServerName, tls.ServerName, StringComparison.OrdinalIgnoreCase)))
                {
                    errors.Add($"{path}: pools '{owner.Pool}' and '{poolName}' both have https backends on host '{host}' but different Tls settings; certificates are checked per host, so they must agree.");
                }
            }
        }
    }

    // Timers take at most uint.MaxValue - 1 milliseconds; longer is rejected rather than failing every request.
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromMilliseconds(int.MaxValue);

    private static void RequirePositive(TimeSpan value, string key, List<string> errors)
    {
        if (value == System.Threading.Timeout.InfiniteTimeSpan)
        {
            return;
        }

        if (value <= TimeSpan.Zero)
        {
            errors.Add($"{key}: must be a positive duration such as 00:00:05, not {value}.");
        }
        else if (value > MaxTimeout)
        {
            errors.Add($"{key}: must be at most {MaxTimeout} (or -00:00:00.001 for no limit), not {value}.");
        }
    }
}
