using Balancing.Routing;

namespace Balancing.Core.Tests.Routing;

[TestClass]
public sealed class HostPatternTests
{
    [TestMethod]
    [DataRow("example.com", "example.com:*")]
    [DataRow("Example.COM:8080", "example.com:8080")]
    [DataRow("*.example.com", "*.example.com:*")]
    [DataRow("*.example.com:443", "*.example.com:443")]
    [DataRow("*", "*:*")]
    [DataRow("*:8080", "*:8080")]
    [DataRow("example.com:*", "example.com:*")]
    [DataRow("10.0.0.1:80", "10.0.0.1:80")]
    [DataRow("[::1]:5000", "[::1]:5000")]
    [DataRow("my_host-1", "my_host-1:*")]
    public void TryParse_ValidPattern_GivesItsCanonicalForm(string text, string canonical)
    {
        Assert.IsTrue(HostPattern.TryParse(text, out var pattern));
        Assert.AreEqual(canonical, pattern.Canonical);
    }

    [TestMethod]
    [DataRow("")]
    [DataRow(":8080")]
    [DataRow("example.com:")]
    [DataRow("example.com:http")]
    [DataRow("example.com:0")]
    [DataRow("example.com:65536")]
    [DataRow("example.com:80:81")]
    [DataRow("exa mple.com")]
    [DataRow("http://example.com")]
    [DataRow("example..com")]
    [DataRow(".example.com")]
    [DataRow("*example.com")]
    [DataRow("*.")]
    [DataRow("a.*.com")]
    [DataRow("[::1")]
    [DataRow("[nothost]")]
    public void TryParse_NotAPattern_IsRejected(string text)
    {
        Assert.IsFalse(HostPattern.TryParse(text, out _));
    }

    [TestMethod]
    [DataRow("example.com", "EXAMPLE.com", 80, true)]
    [DataRow("example.com", "example.com", 8443, true)]
    [DataRow("example.com", "www.example.com", 80, false)]
    [DataRow("example.com:8080", "example.com", 8080, true)]
    [DataRow("example.com:8080", "example.com", 80, false)]
    [DataRow("*.example.com", "a.example.com", 80, true)]
    [DataRow("*.example.com", "a.b.example.com", 80, true)]
    [DataRow("*.example.com", "example.com", 80, false)]
    [DataRow("*.example.com", "badexample.com", 80, false)]
    [DataRow("*.example.com", ".example.com", 80, false)]
    [DataRow("*.example.com", "a..example.com", 80, false)]
    [DataRow("*:8080", "anything.test", 8080, true)]
    [DataRow("*:8080", "anything.test", 8081, false)]
    [DataRow("*", "anything.test", 1, true)]
    public void Matches_FollowsRequireHostRules(string pattern, string host, int port, bool expected)
    {
        Assert.IsTrue(HostPattern.TryParse(pattern, out var parsed));
        Assert.AreEqual(expected, parsed.Matches(host, port));
    }

    [TestMethod]
    public void Specificity_RanksAsAspNetCoreDoes()
    {
        string[] mostToLeast = ["a.example.com:80", "a.example.com", "*.example.com:80", "*.example.com", "*:80", "*"];

        var ranks = mostToLeast.Select(p => HostPattern.TryParse(p, out var parsed) ? parsed.Specificity : -1).ToArray();

        CollectionAssert.AreEqual(new[] { 6, 5, 4, 3, 2, 1 }, ranks);
    }
}
