using Balancing.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Balancing.AspNetCore.Affinity;

/// <summary>
/// One pool's session affinity as configured: reads and verifies the pin a request carries, and gives the client a new
/// one when it had none (or an unusable one), was served elsewhere, or its sliding lifetime is due for renewal.
/// </summary>
internal sealed class AffinityPolicy
{
    private readonly string _pool;
    private readonly AffinityProtector _protector;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly string _name;
    private readonly TimeSpan? _lifetime;
    private readonly TimeSpan? _renewAfter;

    /// <summary>1 while Data Protection cannot protect or unprotect (its key ring could not be read): logged once per streak.</summary>
    private int _keysUnavailable;

    public AffinityPolicy(string pool, SessionAffinityOptions options, AffinityProtector protector, TimeProvider timeProvider, ILogger logger)
    {
        _pool = pool;
        Options = options;
        _protector = protector;
        _timeProvider = timeProvider;
        _logger = logger;
        _name = SessionAffinityOptionsValidator.EffectiveName(options);
        _lifetime = options.Lifetime;
        _renewAfter = options.SlidingExpiration && options.Lifetime is { } lifetime ? lifetime / 2 : null;
    }

    /// <summary>Gets the settings this policy was built from; a reload that replaces them builds a new policy.</summary>
    public SessionAffinityOptions Options { get; }

    /// <summary>Reads the request's pin. Anything unusable (absent, tampered, foreign, stale) reads as no pin.</summary>
    public AffinityPin Read(HttpContext context)
    {
        string? value;
        if (Options.Mode == SessionAffinityMode.Header)
        {
            var values = context.Request.Headers[_name];
            value = values.Count > 0 ? values[0] : null;
        }
        else
        {
            value = context.Request.Cookies[_name];
        }

        if (string.IsNullOrEmpty(value))
        {
            return default;
        }

        bool readable;
        string backendId;
        DateTimeOffset issuedAt;
        try
        {
            readable = _protector.TryUnprotect(value, out backendId, out issuedAt);
        }
        catch (Exception ex)
        {
            // Not a bad value: the keys themselves are out of reach (a key ring in a store that is down). The request is
            // balanced as if it had no pin, rather than failing.
            KeysUnavailable(ex);
            return default;
        }

        if (!readable)
        {
            AffinityLog.ValueIgnored(_logger, _pool, "it could not be decoded (tampered with, issued for another pool, or protected with a key this instance does not have)");
            return default;
        }

        // Only a pin that was read proves the keys are back: a refusal may be the value's fault or the keys'.
        KeysAvailable();

        var age = _timeProvider.GetUtcNow() - issuedAt;
        if (_lifetime is { } lifetime && age > lifetime)
        {
            AffinityLog.ValueIgnored(_logger, _pool, "it is older than the pool's SessionAffinity:Lifetime");
            return default;
        }

        return new AffinityPin(backendId, _renewAfter is { } renewAfter && age > renewAfter);
    }

    /// <summary>
    /// Called once the backend's response is in, before it is copied: pins the client to the backend that served it when
    /// that changes anything. Writing waits until the response starts, so the backend's own <c>Set-Cookie</c> headers,
    /// copied first, are kept next to it.
    /// </summary>
    public void OnServed(HttpContext context, AffinityPin pin, BackendState served)
    {
        if (pin.BackendId is { } pinned && string.Equals(pinned, served.Id, StringComparison.OrdinalIgnoreCase))
        {
            if (!pin.Renew)
            {
                return;
            }
        }
        else if (pin.BackendId is not null)
        {
            AffinityLog.Redistributed(_logger, _pool, pin.BackendId, served.Id);
        }

        context.Response.OnStarting(
            static state =>
            {
                var (policy, context, backendId) = ((AffinityPolicy, HttpContext, string))state;
                policy.Write(context, backendId);
                return Task.CompletedTask;
            },
            (this, context, served.Id));
    }

    private void Write(HttpContext context, string backendId)
    {
        var now = _timeProvider.GetUtcNow();
        string value;
        try
        {
            value = _protector.Protect(backendId, now);
        }
        catch (Exception ex)
        {
            // The response goes out without a pin; the client is pinned by a later response once the keys are back.
            KeysUnavailable(ex);
            return;
        }

        KeysAvailable();
        if (Options.Mode == SessionAffinityMode.Header)
        {
            context.Response.Headers[_name] = value;
            return;
        }

        var cookie = new CookieOptions
        {
            Path = Options.Path,
            Domain = Options.Domain,
            HttpOnly = true,
            Secure = Options.SecurePolicy == AffinityCookieSecurePolicy.Always || context.Request.IsHttps,
            SameSite = Options.SameSite switch
            {
                AffinityCookieSameSite.Strict => SameSiteMode.Strict,
                AffinityCookieSameSite.None => SameSiteMode.None,
                _ => SameSiteMode.Lax,
            },

            // The cookie is what makes the balancer route a session consistently: strictly necessary, not tracking, so a
            // consent check (CookiePolicyOptions.CheckConsentNeeded) does not drop it.
            IsEssential = true,
        };

        if (_lifetime is { } lifetime)
        {
            cookie.MaxAge = lifetime;
            cookie.Expires = now + lifetime;
        }

        context.Response.Cookies.Append(_name, value, cookie);
    }

    private void KeysUnavailable(Exception exception)
    {
        if (Interlocked.Exchange(ref _keysUnavailable, 1) == 0)
        {
            AffinityLog.KeysUnavailable(_logger, _pool, exception);
        }
    }

    private void KeysAvailable()
    {
        if (Volatile.Read(ref _keysUnavailable) == 1 && Interlocked.Exchange(ref _keysUnavailable, 0) == 1)
        {
            AffinityLog.KeysAvailable(_logger, _pool);
        }
    }
}
