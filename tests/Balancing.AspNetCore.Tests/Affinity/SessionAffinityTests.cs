using System.Buffers.Text;
using System.Net;
using System.Text;
using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using static Balancing.AspNetCore.Tests.Affinity.AffinityTestHost;

namespace Balancing.AspNetCore.Tests.Affinity;

/// <summary>Sticky sessions end to end: a real Kestrel balancer in front of real Kestrel backends.</summary>
[TestClass]
public sealed class SessionAffinityTests
{
    private static readonly DateTimeOffset Start = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [TestMethod]
    public async Task FirstRequest_GetsAnHttpOnlyLaxSessionCookieForRoot_NotSecureOverHttp()
    {
        await using var backends = await Backends.StartAsync(1);
        await using var balancer = await StartAsync(Settings(backends.All));

        var served = await GetAsync(balancer);

        Assert.IsNotNull(served.SetCookie, "the first response pins the client");
        var attributes = served.SetCookie.Split(';').Skip(1).Select(a => a.Trim().ToLowerInvariant()).ToList();
        Assert.AreSequenceEqual(new[] { "path=/", "samesite=lax", "httponly" }, attributes, served.SetCookie);
    }

    [TestMethod]
    public async Task Pin_IsOpaque_NeitherTheValueNorItsBytesNameTheBackend()
    {
        await using var backends = await Backends.StartAsync(1);
        await using var balancer = await StartAsync(Settings(backends.All));

        var value = (await GetAsync(balancer)).CookieValue!;

        var name = backends.All[0].Name;
        Assert.DoesNotContain(name, value);
        Assert.DoesNotContain(name, Encoding.UTF8.GetString(Base64Url.DecodeFromChars(value)));
    }

    [TestMethod]
    public async Task HundredRequestsWithTheCookie_AllReachTheBackendThatServedTheFirst()
    {
        await using var backends = await Backends.StartAsync(3);
        await using var balancer = await StartAsync(Settings(backends.All));
        var first = await GetAsync(balancer);
        var before = backends.Counts();

        var bodies = new List<string>();
        for (var i = 0; i < 100; i++)
        {
            bodies.Add((await GetAsync(balancer, first.CookieValue)).Body);
        }

        Assert.IsTrue(bodies.All(b => b == first.Body), string.Join(",", bodies.Distinct()));
        Assert.AreEqual(100, backends.Counts()[first.Body] - before[first.Body]);
        Assert.AreEqual(before.Values.Sum() + 100, backends.Counts().Values.Sum(), "no other backend received anything");
    }

    [TestMethod]
    public async Task RequestsWithAValidPin_GetNoNewCookie()
    {
        await using var backends = await Backends.StartAsync(3);
        await using var balancer = await StartAsync(Settings(backends.All));
        var first = await GetAsync(balancer);

        var later = new List<Served>();
        for (var i = 0; i < 5; i++)
        {
            later.Add(await GetAsync(balancer, first.CookieValue));
        }

        Assert.IsTrue(later.All(s => s.SetCookie is null), "an unchanged pin is not re-issued");
    }

    [TestMethod]
    public async Task PoolWithoutAffinity_SetsNoCookieAndKeepsRoundRobin()
    {
        await using var backends = await Backends.StartAsync(3);
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backends.All));

        var served = new List<Served>();
        for (var i = 0; i < 3; i++)
        {
            served.Add(await GetAsync(balancer));
        }

        Assert.IsTrue(served.All(s => s.SetCookie is null));
        Assert.AreEqual(3, served.Select(s => s.Body).Distinct().Count());
    }

    [TestMethod]
    public async Task PinnedBackendStopped_Redistribute_ServedElsewhereAndPinnedThere()
    {
        await using var backends = await Backends.StartAsync(3);
        await using var balancer = await StartAsync(Settings(backends.All));
        var first = await GetAsync(balancer);
        await backends.StopAsync(first.Body);

        var moved = await GetAsync(balancer, first.CookieValue);
        var after = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            var served = await GetAsync(balancer, moved.CookieValue);
            Assert.IsNull(served.SetCookie);
            after.Add(served.Body);
        }

        Assert.AreEqual(HttpStatusCode.OK, moved.Status);
        Assert.AreNotEqual(first.Body, moved.Body);
        Assert.IsNotNull(moved.SetCookie, "the client gets a pin for the backend that served it");
        Assert.IsTrue(after.All(b => b == moved.Body), string.Join(",", after));
    }

    [TestMethod]
    public async Task PinnedBackendStopped_Fail_Answers503WithRetryAfterAndSendsNothingElsewhere()
    {
        await using var backends = await Backends.StartAsync(3);
        var settings = Settings(backends.All);
        settings[$"{Key}:OnUnavailable"] = "Fail";
        await using var balancer = await StartAsync(settings);
        var first = await GetAsync(balancer);
        await backends.StopAsync(first.Body);
        var before = backends.Counts();

        var refused = await GetAsync(balancer, first.CookieValue);

        Assert.AreEqual((HttpStatusCode.ServiceUnavailable, "1", "application/problem+json"), (refused.Status, refused.RetryAfter, refused.ContentType));
        Assert.IsNull(refused.SetCookie, "the pin is kept");
        CollectionAssert.AreEquivalent(before, backends.Counts(), "no backend received the request");
    }

    [TestMethod]
    public async Task PinnedBackendDrained_Fail_Answers503AndUnpinnedClientsAreStillServed()
    {
        await using var backends = await Backends.StartAsync(2);
        var settings = Settings(backends.All);
        settings[$"{Key}:OnUnavailable"] = "Fail";
        await using var balancer = await StartAsync(settings);
        var first = await GetAsync(balancer);
        balancer.Registry.GetPool("default")!.FindBackend(first.Body)!.SetHealth(BackendHealth.Unhealthy, "test", Start);

        var pinned = await GetAsync(balancer, first.CookieValue);
        var unpinned = await GetAsync(balancer);

        Assert.AreEqual(HttpStatusCode.ServiceUnavailable, pinned.Status);
        Assert.AreEqual((HttpStatusCode.OK, true), (unpinned.Status, unpinned.Body != first.Body));
    }

    [TestMethod]
    [DataRow("flipped character")]
    [DataRow("another pool's protector")]
    [DataRow("another key ring")]
    [DataRow("backend name in plain text")]
    [DataRow("not base64url")]
    public async Task ForgedValue_IsIgnoredAndReplaced(string forgery)
    {
        await using var backends = await Backends.StartAsync(3);
        await using var balancer = await StartAsync(Settings(backends.All));
        var first = await GetAsync(balancer);
        var forged = forgery switch
        {
            "flipped character" => Flip(first.CookieValue!),
            "another pool's protector" => Protector(balancer, "other").Protect(first.Body, DateTimeOffset.UtcNow),
            "another key ring" => new Balancing.AspNetCore.Affinity.AffinityProtector(new EphemeralDataProtectionProvider(), "default").Protect(first.Body, DateTimeOffset.UtcNow),
            "backend name in plain text" => first.Body,
            _ => "%%%" + first.CookieValue,
        };

        var served = new List<Served>();
        for (var i = 0; i < 3; i++)
        {
            served.Add(await GetAsync(balancer, forged));
        }

        Assert.IsTrue(served.All(s => s.Status == HttpStatusCode.OK && s.SetCookie is not null), "each request is served and given a genuine pin");
        Assert.AreEqual(3, served.Select(s => s.Body).Distinct().Count(), "the forged value chose nothing: round robin spread the requests");
    }

    [TestMethod]
    public async Task MintedPinForTheSamePool_IsHonoured()
    {
        // The control for ForgedValue_IsIgnoredAndReplaced: the same minting path with the right key ring and pool works.
        await using var backends = await Backends.StartAsync(3);
        await using var balancer = await StartAsync(Settings(backends.All));
        var target = backends.All[2].Name;
        var pin = Protector(balancer).Protect(target, DateTimeOffset.UtcNow);

        var served = new[] { await GetAsync(balancer, pin), await GetAsync(balancer, pin), await GetAsync(balancer, pin) };

        Assert.IsTrue(served.All(s => s.Body == target && s.SetCookie is null));
    }

    [TestMethod]
    public async Task PinForABackendNoLongerConfigured_Redistribute_IsReplaced()
    {
        await using var backends = await Backends.StartAsync(2);
        await using var balancer = await StartAsync(Settings(backends.All));
        var pin = Protector(balancer).Protect("decommissioned", DateTimeOffset.UtcNow);

        var served = await GetAsync(balancer, pin);

        Assert.AreEqual((HttpStatusCode.OK, true), (served.Status, served.SetCookie is not null));
    }

    [TestMethod]
    public async Task Lifetime_SetsMaxAgeAndExpiresFromTheClock()
    {
        await using var backends = await Backends.StartAsync(1);
        var settings = Settings(backends.All);
        settings[$"{Key}:Lifetime"] = "00:30:00";
        await using var balancer = await StartAsync(settings, new FakeTimeProvider(Start));

        var served = await GetAsync(balancer);

        StringAssert.Contains(served.SetCookie, "expires=Tue, 01 Jan 2030 00:30:00 GMT");
        StringAssert.Contains(served.SetCookie, "max-age=1800");
    }

    [TestMethod]
    public async Task PinWithinLifetime_StillPins()
    {
        await using var backends = await Backends.StartAsync(3);
        var settings = Settings(backends.All);
        settings[$"{Key}:Lifetime"] = "00:30:00";
        var clock = new FakeTimeProvider(Start);
        await using var balancer = await StartAsync(settings, clock);
        var first = await GetAsync(balancer);

        clock.Advance(TimeSpan.FromMinutes(29));
        var served = new[] { await GetAsync(balancer, first.CookieValue), await GetAsync(balancer, first.CookieValue), await GetAsync(balancer, first.CookieValue) };

        Assert.IsTrue(served.All(s => s.Body == first.Body && s.SetCookie is null), string.Join(",", served.Select(s => s.Body)));
    }

    [TestMethod]
    public async Task PinOlderThanLifetime_IsIgnoredAndReplaced()
    {
        await using var backends = await Backends.StartAsync(3);
        var settings = Settings(backends.All);
        settings[$"{Key}:Lifetime"] = "00:30:00";
        var clock = new FakeTimeProvider(Start);
        await using var balancer = await StartAsync(settings, clock);
        var first = await GetAsync(balancer);

        clock.Advance(TimeSpan.FromMinutes(30) + TimeSpan.FromSeconds(1));
        var served = new[] { await GetAsync(balancer, first.CookieValue), await GetAsync(balancer, first.CookieValue), await GetAsync(balancer, first.CookieValue) };

        Assert.IsTrue(served.All(s => s.SetCookie is not null), "a stale pin is replaced");
        Assert.AreEqual(3, served.Select(s => s.Body).Distinct().Count(), "a stale pin chose nothing");
    }

    [TestMethod]
    public async Task SlidingExpiration_PinPastHalfItsLifetime_IsRenewedForTheSameBackend()
    {
        await using var backends = await Backends.StartAsync(3);
        var settings = Settings(backends.All);
        settings[$"{Key}:Lifetime"] = "00:30:00";
        settings[$"{Key}:SlidingExpiration"] = "true";
        var clock = new FakeTimeProvider(Start);
        await using var balancer = await StartAsync(settings, clock);
        var first = await GetAsync(balancer);

        clock.Advance(TimeSpan.FromMinutes(14));
        var early = await GetAsync(balancer, first.CookieValue);
        clock.Advance(TimeSpan.FromMinutes(2));
        var renewed = await GetAsync(balancer, first.CookieValue);
        clock.Advance(TimeSpan.FromMinutes(15));
        var later = await GetAsync(balancer, renewed.CookieValue);
        var original = await GetAsync(balancer, first.CookieValue);

        Assert.IsNull(early.SetCookie, "not renewed before half the lifetime");
        Assert.IsNotNull(renewed.SetCookie, "renewed past half the lifetime");
        Assert.AreEqual((first.Body, first.Body, (string?)null), (renewed.Body, later.Body, later.SetCookie), "31 minutes after the first pin, the renewed one still holds");
        Assert.IsNotNull(original.SetCookie, "the original pin itself has gone stale");
    }

    [TestMethod]
    public async Task HeaderMode_PinComesBackInTheHeaderAndIsHonoured()
    {
        await using var backends = await Backends.StartAsync(3);
        var settings = Settings(backends.All);
        settings[$"{Key}:Mode"] = "Header";
        await using var balancer = await StartAsync(settings);
        var first = await GetAsync(balancer);

        var later = new List<Served>();
        for (var i = 0; i < 10; i++)
        {
            later.Add(await GetAsync(balancer, first.PinHeader, inHeader: true));
        }

        Assert.AreEqual((false, true), (first.SetCookie is not null, first.PinHeader is not null), "header mode sets no cookie");
        Assert.IsTrue(later.All(s => s.Body == first.Body && s.PinHeader is null), string.Join(",", later.Select(s => s.Body)));
    }

    [TestMethod]
    public async Task HeaderMode_ForgedHeader_IsIgnoredAndReplaced()
    {
        await using var backends = await Backends.StartAsync(3);
        var settings = Settings(backends.All);
        settings[$"{Key}:Mode"] = "Header";
        await using var balancer = await StartAsync(settings);
        var first = await GetAsync(balancer);

        var served = new[]
        {
            await GetAsync(balancer, Flip(first.PinHeader!), inHeader: true),
            await GetAsync(balancer, Flip(first.PinHeader!), inHeader: true),
            await GetAsync(balancer, Flip(first.PinHeader!), inHeader: true),
        };

        Assert.IsTrue(served.All(s => s.PinHeader is not null));
        Assert.AreEqual(3, served.Select(s => s.Body).Distinct().Count());
    }

    [TestMethod]
    public async Task CookieAttributes_FollowTheConfiguration()
    {
        await using var backends = await Backends.StartAsync(1);
        var settings = Settings(backends.All);
        settings[$"{Key}:Name"] = "route";
        settings[$"{Key}:Path"] = "/app";
        settings[$"{Key}:Domain"] = "example.test";
        settings[$"{Key}:SameSite"] = "Strict";
        settings[$"{Key}:SecurePolicy"] = "Always";
        await using var balancer = await StartAsync(settings);

        using var response = await balancer.Client.GetAsync("/app/x");
        var cookie = response.Headers.GetValues("Set-Cookie").Single();

        Assert.StartsWith("route=", cookie);
        var attributes = cookie.Split(';').Skip(1).Select(a => a.Trim().ToLowerInvariant()).ToHashSet();
        Assert.IsTrue(attributes.SetEquals(["domain=example.test", "path=/app", "secure", "samesite=strict", "httponly"]), cookie);
    }

    [TestMethod]
    public async Task BackendsOwnCookies_ReachTheClientNextToThePin()
    {
        await using var backend = await TestBackend.StartAsync("app", context =>
        {
            context.Response.Headers.Append("Set-Cookie", "session=abc; path=/");
            context.Response.Headers.Append("Set-Cookie", "theme=dark; path=/");
            return context.Response.WriteAsync("app");
        });
        await using var balancer = await StartAsync(Settings(backend));

        using var response = await balancer.Client.GetAsync("/");
        var cookies = response.Headers.GetValues("Set-Cookie").Select(c => c.Split('=')[0]).ToList();

        CollectionAssert.AreEquivalent(new[] { "session", "theme", CookieName }, cookies);
    }

    [TestMethod]
    public async Task TwoInstancesSharingKeysAndApplicationName_HonourEachOthersPins()
    {
        await using var backends = await Backends.StartAsync(3);
        var keys = Directory.CreateTempSubdirectory("balancing-keys-");
        try
        {
            void Shared(IDataProtectionBuilder builder) => builder.PersistKeysToFileSystem(keys).SetApplicationName("balancing-tests");
            await using var one = await StartAsync(Settings(backends.All), dataProtection: Shared);
            await using var two = await StartAsync(Settings(backends.All), dataProtection: Shared);
            var first = await GetAsync(one);

            var served = new[] { await GetAsync(two, first.CookieValue), await GetAsync(two, first.CookieValue), await GetAsync(two, first.CookieValue) };

            Assert.IsTrue(served.All(s => s.Body == first.Body && s.SetCookie is null), string.Join(",", served.Select(s => s.Body)));
        }
        finally
        {
            keys.Delete(recursive: true);
        }
    }

    [TestMethod]
    public async Task InstanceWithAnotherKeyRing_RedistributesThePinWithoutError()
    {
        await using var backends = await Backends.StartAsync(3);
        await using var one = await StartAsync(Settings(backends.All));
        await using var two = await StartAsync(Settings(backends.All));
        var first = await GetAsync(one);

        var served = new[] { await GetAsync(two, first.CookieValue), await GetAsync(two, first.CookieValue), await GetAsync(two, first.CookieValue) };

        Assert.IsTrue(served.All(s => s.Status == HttpStatusCode.OK && s.SetCookie is not null));
        Assert.AreEqual(3, served.Select(s => s.Body).Distinct().Count());
    }

    [TestMethod]
    public async Task AddLoadBalancer_RegistersDataProtection()
    {
        await using var backends = await Backends.StartAsync(1);
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backends.All));

        Assert.IsNotNull(balancer.Services.GetService<IDataProtectionProvider>());
    }

    [TestMethod]
    public async Task InvalidMode_FailsStartNamingTheKey()
    {
        var settings = Settings();
        settings["LoadBalancer:Pools:default:Backends:b1:Address"] = "http://127.0.0.1:9001";
        settings[$"{Key}:Mode"] = "Sticky";

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync(settings));

        StringAssert.Contains(error.Message, "LoadBalancer:Pools:default:SessionAffinity:Mode: 'Sticky' is not a valid value; expected one of Cookie, Header.");
    }

    [TestMethod]
    public async Task EmptyName_FailsStartNamingTheKey()
    {
        var settings = Settings();
        settings["LoadBalancer:Pools:default:Backends:b1:Address"] = "http://127.0.0.1:9001";
        settings[$"{Key}:Name"] = string.Empty;

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync(settings));

        StringAssert.Contains(error.Message, "LoadBalancer:Pools:default:SessionAffinity:Name: must not be empty");
    }

    [TestMethod]
    public async Task SeveralBadSettings_AreAllReportedAtStart()
    {
        var settings = Settings();
        settings["LoadBalancer:Pools:default:Backends:b1:Address"] = "http://127.0.0.1:9001";
        settings[$"{Key}:Name"] = "my cookie";
        settings[$"{Key}:Path"] = "app";
        settings[$"{Key}:Lifetime"] = "00:00:00";
        settings[$"{Key}:SameSite"] = "Loose";

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync(settings));

        StringAssert.Contains(error.Message, $"{Key}:Name: 'my cookie' is not a valid cookie name");
        StringAssert.Contains(error.Message, $"{Key}:Path: must start with '/'");
        StringAssert.Contains(error.Message, $"{Key}:Lifetime: must be from 00:00:01");
        StringAssert.Contains(error.Message, $"{Key}:SameSite: 'Loose' is not a valid value");
    }

    /// <summary>A set of running backends named after themselves (each answers with its name).</summary>
    private sealed class Backends : IAsyncDisposable
    {
        private readonly Dictionary<string, TestBackend> _running;

        private Backends(TestBackend[] all)
        {
            All = all;
            _running = all.ToDictionary(b => b.Name);
        }

        public TestBackend[] All { get; }

        public static async Task<Backends> StartAsync(int count)
        {
            var all = new TestBackend[count];
            for (var i = 0; i < count; i++)
            {
                all[i] = await TestBackend.StartAsync($"backend-{(char)('a' + i)}");
            }

            return new Backends(all);
        }

        public Dictionary<string, int> Counts() => All.ToDictionary(b => b.Name, b => b.Received.Count);

        public async Task StopAsync(string name)
        {
            await _running[name].DisposeAsync();
            _running.Remove(name);
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var backend in _running.Values)
            {
                await backend.DisposeAsync();
            }
        }
    }
}
