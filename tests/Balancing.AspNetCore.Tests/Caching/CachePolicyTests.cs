using Balancing.AspNetCore.Caching;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Balancing.AspNetCore.Tests.Caching;

/// <summary>The RFC 9111 rules, called directly.</summary>
[TestClass]
public sealed class CachePolicyTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    [TestMethod]
    public void Evaluate_CurrentAge_AddsAgeHeaderResponseDelayAndResidentTime()
    {
        // Sent at Now - 2 s, received at Now, with Age: 10 and a Date of Now - 5 s.
        var freshness = Evaluate(200, [("Cache-Control", "max-age=60"), ("Date", Now.AddSeconds(-5).ToString("R"))], age: "10", requestTime: Now.AddSeconds(-2))!;

        // corrected_initial_age = max(apparent 5 s, 10 s + 2 s delay) = 12 s; then 3 s resident.
        Assert.AreEqual(TimeSpan.FromSeconds(12), freshness.CurrentAge(Now));
        Assert.AreEqual(TimeSpan.FromSeconds(15), freshness.CurrentAge(Now.AddSeconds(3)));
        Assert.IsTrue(freshness.IsFresh(Now.AddSeconds(47), requestMaxAge: null));
        Assert.IsFalse(freshness.IsFresh(Now.AddSeconds(48), requestMaxAge: null), "60 s of lifetime, 12 s of it spent before arrival");
    }

    [TestMethod]
    public void Evaluate_RequestMaxAge_RefusesOlderResponses()
    {
        var freshness = Evaluate(200, [("Cache-Control", "max-age=60")])!;

        Assert.IsTrue(freshness.IsFresh(Now.AddSeconds(10), TimeSpan.FromSeconds(10)));
        Assert.IsFalse(freshness.IsFresh(Now.AddSeconds(11), TimeSpan.FromSeconds(10)));
    }

    [TestMethod]
    public void Evaluate_ExpiresThatDoesNotParse_IsStaleAtOnce()
    {
        var freshness = Evaluate(200, [("Expires", "0"), ("ETag", "\"a\"")])!;

        Assert.AreEqual(TimeSpan.Zero, freshness.Lifetime);
        Assert.IsFalse(freshness.IsFresh(Now, null));
    }

    [TestMethod]
    public void Evaluate_MaxAgeWinsOverExpires()
    {
        var freshness = Evaluate(200, [("Cache-Control", "max-age=5"), ("Date", Now.ToString("R")), ("Expires", Now.AddHours(1).ToString("R"))])!;

        Assert.AreEqual(TimeSpan.FromSeconds(5), freshness.Lifetime);
    }

    [TestMethod]
    [DataRow("max-age=60", false)]
    [DataRow("public, max-age=60", true)]
    [DataRow("s-maxage=60", true)]
    [DataRow("must-revalidate, max-age=60", true)]
    public void Evaluate_WithAuthorization_StoresOnlyWhatTheResponseAllows(string cacheControl, bool stored)
    {
        Assert.AreEqual(stored, Evaluate(200, [("Cache-Control", cacheControl)], hasAuthorization: true) is not null);
    }

    [TestMethod]
    [DataRow(200, true)]
    [DataRow(404, true)]
    [DataRow(301, true)]
    [DataRow(206, false)]
    [DataRow(302, false)]
    [DataRow(500, false)]
    [DataRow(503, false)]
    public void Evaluate_OnlyCacheableStatusCodes(int status, bool stored)
    {
        Assert.AreEqual(stored, Evaluate(status, [("Cache-Control", "max-age=60")]) is not null);
    }

    [TestMethod]
    public void Evaluate_WithoutExplicitFreshness_IsNotStored_UnlessNoCacheWithAValidator()
    {
        Assert.IsNull(Evaluate(200, [("ETag", "\"a\"")]), "no heuristic freshness");
        Assert.IsNull(Evaluate(200, [("Cache-Control", "no-cache")]), "nothing to revalidate with");
        var noCache = Evaluate(200, [("Cache-Control", "no-cache"), ("ETag", "\"a\"")]);
        Assert.IsNotNull(noCache);
        Assert.IsFalse(noCache.IsFresh(Now, null), "no-cache: revalidated before every use");
    }

    [TestMethod]
    public void Merge_TakesThe304sHeaders_ButKeepsTheStoredContentLength()
    {
        KeyValuePair<string, StringValues>[] stored = [new("Content-Length", "7"), new("Cache-Control", "max-age=10"), new("X-Old", "1")];
        KeyValuePair<string, StringValues>[] update = [new("Content-Length", "0"), new("Cache-Control", "max-age=99")];

        var merged = CachePolicy.Merge(stored, update).ToDictionary(h => h.Key, h => h.Value.ToString());

        Assert.AreEqual("7", merged["Content-Length"]);
        Assert.AreEqual("max-age=99", merged["Cache-Control"]);
        Assert.AreEqual("1", merged["X-Old"]);
    }

    [TestMethod]
    public void VariantKey_DependsOnTheNamedHeadersOnly()
    {
        var en = new HeaderDictionary { ["Accept-Language"] = "en", ["X-Other"] = "1" };
        var enOther = new HeaderDictionary { ["Accept-Language"] = "en", ["X-Other"] = "2" };
        var fr = new HeaderDictionary { ["Accept-Language"] = "fr" };

        Assert.AreEqual(CachePolicy.VariantKey("k", ["Accept-Language"], en), CachePolicy.VariantKey("k", ["accept-language"], enOther));
        Assert.AreNotEqual(CachePolicy.VariantKey("k", ["Accept-Language"], en), CachePolicy.VariantKey("k", ["Accept-Language"], fr));
    }

    private static ResponseFreshness? Evaluate(int status, (string Name, string Value)[] headers, string? age = null, DateTimeOffset? requestTime = null, bool hasAuthorization = false)
        => CachePolicy.Evaluate(
            status,
            [.. headers.Select(h => new KeyValuePair<string, StringValues>(h.Name, h.Value))],
            age ?? StringValues.Empty,
            requestTime ?? Now,
            Now,
            hasAuthorization,
            out _);
}
