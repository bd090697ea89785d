namespace Balancing.Configuration;

/// <summary>
/// Checks a pool's <see cref="SessionAffinityOptions"/>. Called by the whole-configuration validator for every pool, so its
/// messages carry the full key (<c>LoadBalancer:Pools:default:SessionAffinity:Mode</c>). The settings are checked even
/// when affinity is off, so a mistake shows before someone turns it on.
/// </summary>
internal static class SessionAffinityOptionsValidator
{
    /// <summary>Browsers cap a cookie's lifetime at 400 days (RFC 6265bis); a longer pin would outlive its cookie.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(400);

    private const int MaxNameLength = 256;

    // Headers that HTTP or the balancer already gives a meaning to: a pin under one of these names would be stripped on
    // the way, clash with the framing, or overwrite what the backend or the client relies on.
    private static readonly HashSet<string> ReservedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Authorization", "Connection", "Cookie", "Date", "Expect", "Forwarded", "Host", "Keep-Alive", "Location",
        "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection", "Server", "Set-Cookie", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade", "Via", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
    };

    /// <param name="options">The pool's affinity settings.</param>
    /// <param name="path">The key of the settings, for example <c>LoadBalancer:Pools:default:SessionAffinity</c>.</param>
    /// <param name="errors">Receives one message per problem.</param>
    public static void Validate(SessionAffinityOptions options, string path, List<string> errors)
    {
        if (!Enum.IsDefined(options.Mode))
        {
            errors.Add($"{path}:Mode: '{options.Mode}' is not one of {string.Join(", ", Enum.GetNames<SessionAffinityMode>())}.");
        }

        ValidateName(options, $"{path}:Name", errors);

        if (string.IsNullOrEmpty(options.Path) || options.Path[0] != '/')
        {
            errors.Add($"{path}:Path: must start with '/', for example /, not '{options.Path}'.");
        }
        else if (options.Path.Any(c => c == ';' || char.IsControl(c)))
        {
            errors.Add($"{path}:Path: '{options.Path}' may not contain ';' or control characters.");
        }

        if (options.Domain is not null && !IsCookieDomain(options.Domain))
        {
            errors.Add($"{path}:Domain: '{options.Domain}' is not a host name such as example.com; leave it out for a cookie that goes back only to the host that set it.");
        }

        if (options.Lifetime is { } lifetime && (lifetime < TimeSpan.FromSeconds(1) || lifetime > MaxLifetime))
        {
            errors.Add($"{path}:Lifetime: must be from 00:00:01 to {MaxLifetime} (or empty for a browser-session cookie), not {lifetime}.");
        }

        if (options.SlidingExpiration && options.Lifetime is null)
        {
            errors.Add($"{path}:SlidingExpiration: needs a Lifetime to slide; without one, pins never expire.");
        }

        if (!Enum.IsDefined(options.SameSite))
        {
            errors.Add($"{path}:SameSite: '{options.SameSite}' is not one of {string.Join(", ", Enum.GetNames<AffinityCookieSameSite>())}.");
        }

        if (!Enum.IsDefined(options.SecurePolicy))
        {
            errors.Add($"{path}:SecurePolicy: '{options.SecurePolicy}' is not one of {string.Join(", ", Enum.GetNames<AffinityCookieSecurePolicy>())}.");
        }

        if (!Enum.IsDefined(options.OnUnavailable))
        {
            errors.Add($"{path}:OnUnavailable: '{options.OnUnavailable}' is not one of {string.Join(", ", Enum.GetNames<AffinityUnavailablePolicy>())}.");
        }
    }

    /// <summary>The cookie or header name in force: the configured one, or the mode's default.</summary>
    public static string EffectiveName(SessionAffinityOptions options)
        => options.Name ?? (options.Mode == SessionAffinityMode.Header ? SessionAffinityOptions.DefaultHeaderName : SessionAffinityOptions.DefaultCookieName);

    /// <summary>An HTTP token (RFC 9110 §5.6.2): what both a cookie name (RFC 6265 §4.1.1) and a header name must be.</summary>
    public static bool IsToken(string value)
    {
        if (value.Length == 0)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal)))
            {
                return false;
            }
        }

        return true;
    }

    private static void ValidateName(SessionAffinityOptions options, string key, List<string> errors)
    {
        var name = options.Name;
        if (name is null)
        {
            return;
        }

        var what = options.Mode == SessionAffinityMode.Header ? "header" : "cookie";
        if (string.IsNullOrWhiteSpace(name))
        {
            errors.Add($"{key}: must not be empty; leave it out for the default {what} name {EffectiveName(new SessionAffinityOptions { Mode = options.Mode })}.");
            return;
        }

        if (name.Length > MaxNameLength || !IsToken(name))
        {
            errors.Add($"{key}: '{name}' is not a valid {what} name: use at most {MaxNameLength} letters, digits and !#$%&'*+-.^_`|~ (no spaces, no '=', ';' or ',').");
            return;
        }

        if (options.Mode == SessionAffinityMode.Header)
        {
            if (ReservedHeaders.Contains(name) || name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
            {
                errors.Add($"{key}: '{name}' is a header that HTTP or the balancer already uses; choose another name, such as {SessionAffinityOptions.DefaultHeaderName}.");
            }

            return;
        }

        // Browsers enforce cookie-name prefixes (RFC 6265bis §4.1.3): a cookie that breaks their rules is dropped silently,
        // and every request would then be redistributed.
        if (name.StartsWith("__Secure-", StringComparison.OrdinalIgnoreCase) && options.SecurePolicy != AffinityCookieSecurePolicy.Always)
        {
            errors.Add($"{key}: a cookie named '__Secure-...' must be Secure; set SecurePolicy to Always.");
        }
        else if (name.StartsWith("__Host-", StringComparison.OrdinalIgnoreCase)
            && (options.SecurePolicy != AffinityCookieSecurePolicy.Always || options.Path != "/" || options.Domain is not null))
        {
            errors.Add($"{key}: a cookie named '__Host-...' must be Secure, for Path / and without Domain; set SecurePolicy to Always, Path to / and leave Domain out.");
        }
    }

    private static bool IsCookieDomain(string domain)
    {
        // A leading dot is legacy syntax that browsers ignore; the rest must be a DNS name.
        var host = domain.StartsWith('.') ? domain[1..] : domain;
        return host.Length > 0 && Uri.CheckHostName(host) == UriHostNameType.Dns;
    }
}
