using Balancing.Configuration;
using Balancing.Core.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Balancing.Core.Tests.Configuration;

[TestClass]
public sealed class SessionAffinityOptionsValidatorTests
{
    private const string Key = "LoadBalancer:Pools:default:SessionAffinity";

    [TestMethod]
    public void Defaults_AreTheDocumentedOnes()
    {
        var affinity = new PoolOptions().SessionAffinity;

        Assert.AreEqual(
            (false, SessionAffinityMode.Cookie, (string?)null, "/", (string?)null, (TimeSpan?)null, false, AffinityCookieSameSite.Lax, AffinityCookieSecurePolicy.SameAsRequest, AffinityUnavailablePolicy.Redistribute),
            (affinity.Enabled, affinity.Mode, affinity.Name, affinity.Path, affinity.Domain, affinity.Lifetime, affinity.SlidingExpiration, affinity.SameSite, affinity.SecurePolicy, affinity.OnUnavailable));
    }

    [TestMethod]
    public void Validate_Defaults_ReturnsNoErrors()
    {
        Assert.IsEmpty(Validate(_ => { }));
    }

    [TestMethod]
    public void Validate_EverySettingValid_ReturnsNoErrors()
    {
        var errors = Validate(a =>
        {
            a.Enabled = true;
            a.Name = "__Host-route";
            a.Lifetime = TimeSpan.FromHours(8);
            a.SlidingExpiration = true;
            a.SameSite = AffinityCookieSameSite.None;
            a.SecurePolicy = AffinityCookieSecurePolicy.Always;
            a.OnUnavailable = AffinityUnavailablePolicy.Fail;
        });

        Assert.IsEmpty(errors);
    }

    [TestMethod]
    [DataRow(SessionAffinityMode.Cookie, ".Balancing.Affinity")]
    [DataRow(SessionAffinityMode.Header, "X-Balancing-Affinity")]
    public void EffectiveName_NotSet_IsTheModesDefault(SessionAffinityMode mode, string expected)
    {
        Assert.AreEqual(expected, SessionAffinityOptionsValidator.EffectiveName(new SessionAffinityOptions { Mode = mode }));
    }

    [TestMethod]
    [DataRow("")]
    [DataRow("   ")]
    public void Validate_EmptyName_NamesTheKey(string name)
    {
        var errors = Validate(a => a.Name = name);

        Assert.StartsWith($"{Key}:Name: must not be empty; leave it out for the default cookie name .Balancing.Affinity", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    [DataRow("my cookie")]
    [DataRow("a=b")]
    [DataRow("a;b")]
    [DataRow("a,b")]
    [DataRow("caf\u00e9")]
    [DataRow("(route)")]
    public void Validate_NameNotAToken_NamesTheKey(string name)
    {
        var errors = Validate(a => a.Name = name);

        Assert.StartsWith($"{Key}:Name: '{name}' is not a valid cookie name", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    public void Validate_NameLongerThan256_NamesTheKey()
    {
        var errors = Validate(a => a.Name = new string('a', 257));

        Assert.StartsWith($"{Key}:Name: '", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    [DataRow("Host")]
    [DataRow("cookie")]
    [DataRow("Set-Cookie")]
    [DataRow("Content-Length")]
    [DataRow("Content-Whatever")]
    [DataRow("Transfer-Encoding")]
    [DataRow("X-Forwarded-For")]
    public void Validate_HeaderModeWithReservedHeader_NamesTheKey(string name)
    {
        var errors = Validate(a =>
        {
            a.Mode = SessionAffinityMode.Header;
            a.Name = name;
        });

        Assert.StartsWith($"{Key}:Name: '{name}' is a header that HTTP or the balancer already uses", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    public void Validate_HeaderModeWithOwnHeader_IsAccepted()
    {
        var errors = Validate(a =>
        {
            a.Mode = SessionAffinityMode.Header;
            a.Name = "X-Route";
        });

        Assert.IsEmpty(errors);
    }

    [TestMethod]
    public void Validate_SecurePrefixWithoutAlwaysSecure_NamesTheKey()
    {
        var errors = Validate(a => a.Name = "__Secure-route");

        Assert.StartsWith($"{Key}:Name: a cookie named '__Secure-...' must be Secure", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    public void Validate_HostPrefixWithDomain_NamesTheKey()
    {
        var errors = Validate(a =>
        {
            a.Name = "__Host-route";
            a.SecurePolicy = AffinityCookieSecurePolicy.Always;
            a.Domain = "example.com";
        });

        Assert.StartsWith($"{Key}:Name: a cookie named '__Host-...' must be Secure, for Path / and without Domain", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    [DataRow("")]
    [DataRow("app")]
    public void Validate_PathNotStartingWithSlash_NamesTheKey(string path)
    {
        var errors = Validate(a => a.Path = path);

        Assert.StartsWith($"{Key}:Path: must start with '/'", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    [DataRow("/app;x=1")]
    [DataRow("/app\n")]
    public void Validate_PathWithSemicolonOrControl_NamesTheKey(string path)
    {
        var errors = Validate(a => a.Path = path);

        Assert.Contains($"{Key}:Path: ", Assert.ContainsSingle(errors));
        Assert.Contains("may not contain ';' or control characters", errors[0]);
    }

    [TestMethod]
    [DataRow("example.com")]
    [DataRow(".example.com")]
    [DataRow("localhost")]
    public void Validate_DomainHostName_IsAccepted(string domain)
    {
        Assert.IsEmpty(Validate(a => a.Domain = domain));
    }

    [TestMethod]
    [DataRow("")]
    [DataRow(".")]
    [DataRow("exa mple.com")]
    [DataRow("example.com;secure")]
    [DataRow("10.0.0.1")]
    [DataRow("http://example.com")]
    public void Validate_DomainNotAHostName_NamesTheKey(string domain)
    {
        var errors = Validate(a => a.Domain = domain);

        Assert.StartsWith($"{Key}:Domain: '{domain}' is not a host name", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    [DataRow("00:00:00")]
    [DataRow("00:00:00.999")]
    [DataRow("-00:00:05")]
    [DataRow("401.00:00:00")]
    public void Validate_LifetimeOutOfRange_NamesTheKey(string lifetime)
    {
        var errors = Validate(a => a.Lifetime = TimeSpan.Parse(lifetime, System.Globalization.CultureInfo.InvariantCulture));

        Assert.StartsWith($"{Key}:Lifetime: must be from 00:00:01 to 400.00:00:00", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    [DataRow("00:00:01")]
    [DataRow("400.00:00:00")]
    public void Validate_LifetimeAtTheBounds_IsAccepted(string lifetime)
    {
        Assert.IsEmpty(Validate(a => a.Lifetime = TimeSpan.Parse(lifetime, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [TestMethod]
    public void Validate_SlidingExpirationWithoutLifetime_NamesTheKey()
    {
        var errors = Validate(a => a.SlidingExpiration = true);

        Assert.StartsWith($"{Key}:SlidingExpiration: needs a Lifetime", Assert.ContainsSingle(errors));
    }

    [TestMethod]
    public void Validate_UndefinedEnumValues_NameEachKey()
    {
        var errors = Validate(a =>
        {
            a.Mode = (SessionAffinityMode)7;
            a.SameSite = (AffinityCookieSameSite)7;
            a.SecurePolicy = (AffinityCookieSecurePolicy)7;
            a.OnUnavailable = (AffinityUnavailablePolicy)7;
        });

        Assert.AreSequenceEqual(
            new[]
            {
                $"{Key}:Mode: '7' is not one of Cookie, Header.",
                $"{Key}:SameSite: '7' is not one of Lax, Strict, None.",
                $"{Key}:SecurePolicy: '7' is not one of SameAsRequest, Always.",
                $"{Key}:OnUnavailable: '7' is not one of Redistribute, Fail.",
            },
            errors);
    }

    [TestMethod]
    public void Registry_BadValuesInConfiguration_FailWithEveryFullKey()
    {
        var settings = Settings.DefaultPool()
            .With($"{Key}:Enabled", "true")
            .With($"{Key}:Mode", "Sticky")
            .With($"{Key}:Name", "")
            .With($"{Key}:Lifetime", "00:00:00")
            .With($"{Key}:OnUnavailable", "Retry");
        using var balancer = TestBalancer.Create(settings);

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.Contains($"{Key}:Mode: 'Sticky' is not a valid value; expected one of Cookie, Header.", exception.Message);
        Assert.Contains($"{Key}:OnUnavailable: 'Retry' is not a valid value; expected one of Redistribute, Fail.", exception.Message);
        Assert.Contains($"{Key}:Name: must not be empty", exception.Message);
        Assert.Contains($"{Key}:Lifetime: must be from 00:00:01", exception.Message);
    }

    [TestMethod]
    public void Registry_UnknownKeyUnderSessionAffinity_FailsWithItsPath()
    {
        using var balancer = TestBalancer.Create(Settings.DefaultPool().With($"{Key}:Lifetme", "01:00:00"));

        var exception = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.Contains($"{Key}:Lifetme: unknown key; the keys allowed here are Enabled, Mode, Name, Path, Domain, Lifetime, SlidingExpiration, SameSite, SecurePolicy, OnUnavailable.", exception.Message);
    }

    [TestMethod]
    public void Registry_ValidSettings_AreBound()
    {
        var settings = Settings.DefaultPool()
            .With($"{Key}:Enabled", "true")
            .With($"{Key}:Mode", "header")
            .With($"{Key}:Name", "X-Route")
            .With($"{Key}:Lifetime", "00:30:00")
            .With($"{Key}:OnUnavailable", "Fail");
        using var balancer = TestBalancer.Create(settings);

        var affinity = balancer.Pool().Options.SessionAffinity;

        Assert.AreEqual(
            (true, SessionAffinityMode.Header, "X-Route", (TimeSpan?)TimeSpan.FromMinutes(30), AffinityUnavailablePolicy.Fail),
            (affinity.Enabled, affinity.Mode, affinity.Name, affinity.Lifetime, affinity.OnUnavailable));
    }

    private static List<string> Validate(Action<SessionAffinityOptions> configure)
    {
        var options = new SessionAffinityOptions();
        configure(options);
        var errors = new List<string>();
        SessionAffinityOptionsValidator.Validate(options, Key, errors);
        return errors;
    }
}
