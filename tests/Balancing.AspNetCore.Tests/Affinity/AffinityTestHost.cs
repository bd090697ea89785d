using System.Net;
using Balancing.AspNetCore.Affinity;
using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;

namespace Balancing.AspNetCore.Tests.Affinity;

/// <summary>What the client saw of one response.</summary>
internal sealed record Served(HttpStatusCode Status, string Body, string? SetCookie, string? PinHeader, string? RetryAfter, string? ContentType)
{
    /// <summary>Gets the value of the affinity cookie the response set, or <see langword="null"/>.</summary>
    public string? CookieValue => SetCookie is null ? null : SetCookie[(SetCookie.IndexOf('=', StringComparison.Ordinal) + 1)..].Split(';')[0];
}

/// <summary>Balancers with session affinity on pool <c>default</c>, and a client that carries pins by hand.</summary>
internal static class AffinityTestHost
{
    public const string CookieName = ".Balancing.Affinity";
    public const string HeaderName = "X-Balancing-Affinity";
    public const string Key = "LoadBalancer:Pools:default:SessionAffinity";

    /// <summary>Pool <c>default</c> over <paramref name="backends"/>, with affinity on.</summary>
    public static Dictionary<string, string?> Settings(params TestBackend[] backends)
    {
        var settings = BalancerHost.PoolSettings(backends);
        settings[$"{Key}:Enabled"] = "true";
        return settings;
    }

    /// <summary>
    /// Starts a balancer whose pins are protected by an in-memory key ring of its own (unless
    /// <paramref name="dataProtection"/> says otherwise), so tests leave no keys behind and never share them by accident.
    /// </summary>
    public static Task<BalancerHost> StartAsync(
        IDictionary<string, string?> settings,
        TimeProvider? clock = null,
        Action<WebApplication>? configureApp = null,
        Action<IDataProtectionBuilder>? dataProtection = null)
        => BalancerHost.StartAsync(settings, configureApp, services =>
        {
            if (clock is not null)
            {
                services.AddSingleton(clock);
            }

            var builder = services.AddDataProtection();
            if (dataProtection is null)
            {
                builder.UseEphemeralDataProtectionProvider();
            }
            else
            {
                dataProtection(builder);
            }
        });

    /// <summary>A protector for <paramref name="pool"/> over the balancer's own key ring.</summary>
    public static AffinityProtector Protector(BalancerHost balancer, string pool = "default")
        => new(balancer.Services.GetRequiredService<IDataProtectionProvider>(), pool);

    /// <summary>Sends a GET carrying <paramref name="pin"/> in the affinity cookie (or header), when given.</summary>
    public static async Task<Served> GetAsync(BalancerHost balancer, string? pin = null, string path = "/", bool inHeader = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (pin is not null)
        {
            request.Headers.TryAddWithoutValidation(inHeader ? HeaderName : "Cookie", inHeader ? pin : $"{CookieName}={pin}");
        }

        using var response = await balancer.Client.SendAsync(request);
        var setCookie = response.Headers.TryGetValues("Set-Cookie", out var cookies)
            ? cookies.SingleOrDefault(c => c.StartsWith(CookieName + "=", StringComparison.Ordinal))
            : null;
        var pinHeader = response.Headers.TryGetValues(HeaderName, out var values) ? values.Single() : null;
        return new Served(
            response.StatusCode,
            await response.Content.ReadAsStringAsync(),
            setCookie,
            pinHeader,
            response.Headers.RetryAfter?.ToString(),
            response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>The same value with one character changed, still valid base64url.</summary>
    public static string Flip(string value)
    {
        var i = value.Length / 2;
        var chars = value.ToCharArray();
        chars[i] = chars[i] == 'A' ? 'B' : 'A';
        return new string(chars);
    }
}
