using Balancing.AspNetCore.Affinity;
using Microsoft.AspNetCore.DataProtection;

namespace Balancing.AspNetCore.Tests.Affinity;

[TestClass]
public sealed class AffinityProtectorTests
{
    private static readonly DateTimeOffset IssuedAt = new(2030, 5, 17, 8, 30, 15, 250, TimeSpan.Zero);

    [TestMethod]
    [DataRow("b1")]
    [DataRow("backend-with-a-long-name.example")]
    [DataRow("caf\u00e9-\u00fc")]
    public void Protect_ThenUnprotect_GivesBackTheBackendAndIssueTime(string backendId)
    {
        var protector = new AffinityProtector(new EphemeralDataProtectionProvider(), "default");

        var ok = protector.TryUnprotect(protector.Protect(backendId, IssuedAt), out var id, out var issuedAt);

        Assert.AreEqual((true, backendId, IssuedAt), (ok, id, issuedAt));
    }

    [TestMethod]
    public void Protect_IsUrlSafeAndDoesNotRevealTheBackend()
    {
        var protector = new AffinityProtector(new EphemeralDataProtectionProvider(), "default");

        var value = protector.Protect("backend-visible", IssuedAt);

        Assert.IsTrue(value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'), value);
        Assert.DoesNotContain("backend-visible", value);
    }

    [TestMethod]
    public void Protect_TwiceForTheSameBackend_GivesDifferentValues()
    {
        var protector = new AffinityProtector(new EphemeralDataProtectionProvider(), "default");

        Assert.AreNotEqual(protector.Protect("b1", IssuedAt), protector.Protect("b1", IssuedAt));
    }

    [TestMethod]
    public void Unprotect_PoolNameInAnotherCase_Succeeds()
    {
        var provider = new EphemeralDataProtectionProvider();
        var value = new AffinityProtector(provider, "Default").Protect("b1", IssuedAt);

        Assert.IsTrue(new AffinityProtector(provider, "DEFAULT").TryUnprotect(value, out _, out _));
    }

    [TestMethod]
    public void Unprotect_ValueOfAnotherPool_Fails()
    {
        var provider = new EphemeralDataProtectionProvider();
        var value = new AffinityProtector(provider, "other").Protect("b1", IssuedAt);

        Assert.IsFalse(new AffinityProtector(provider, "default").TryUnprotect(value, out _, out _));
    }

    [TestMethod]
    public void Unprotect_ValueOfAnotherKeyRing_Fails()
    {
        var value = new AffinityProtector(new EphemeralDataProtectionProvider(), "default").Protect("b1", IssuedAt);

        Assert.IsFalse(new AffinityProtector(new EphemeralDataProtectionProvider(), "default").TryUnprotect(value, out _, out _));
    }

    [TestMethod]
    public void Unprotect_ValueProtectedForAnotherPurpose_Fails()
    {
        var provider = new EphemeralDataProtectionProvider();
        var foreign = Convert.ToBase64String(provider.CreateProtector("Some.Other.Purpose").Protect("b1"u8.ToArray())).TrimEnd('=').Replace('+', '-').Replace('/', '_');

        Assert.IsFalse(new AffinityProtector(provider, "default").TryUnprotect(foreign, out _, out _));
    }

    [TestMethod]
    public void Unprotect_EveryCharacterChanged_FailsEachTime()
    {
        var protector = new AffinityProtector(new EphemeralDataProtectionProvider(), "default");
        var value = protector.Protect("b1", IssuedAt);

        // The last character can carry unused bits of base64url, so only the others are sure to change the bytes.
        for (var i = 0; i < value.Length - 1; i++)
        {
            var chars = value.ToCharArray();
            chars[i] = chars[i] == 'A' ? 'B' : 'A';
            Assert.IsFalse(protector.TryUnprotect(new string(chars), out _, out _), $"changed at {i}");
        }
    }

    [TestMethod]
    [DataRow(null)]
    [DataRow("")]
    [DataRow("b1")]
    [DataRow("not base64url!")]
    [DataRow("YjE")]
    public void Unprotect_NotAPin_Fails(string? value)
    {
        var protector = new AffinityProtector(new EphemeralDataProtectionProvider(), "default");

        Assert.IsFalse(protector.TryUnprotect(value, out var id, out _));
        Assert.AreEqual(string.Empty, id);
    }

    [TestMethod]
    public void Unprotect_OverlongValue_FailsWithoutDecoding()
    {
        var protector = new AffinityProtector(new EphemeralDataProtectionProvider(), "default");

        Assert.IsFalse(protector.TryUnprotect(new string('A', 1025), out _, out _));
    }

    [TestMethod]
    public void Unprotect_AuthenticPayloadOfAnotherFormat_Fails()
    {
        // A value the key ring vouches for, but not in the pin format (version 2, or too short): ignored, not misread.
        var provider = new EphemeralDataProtectionProvider();
        var inner = provider.CreateProtector(AffinityProtector.Purpose, "DEFAULT");
        var protector = new AffinityProtector(provider, "default");
        byte[][] payloads = [[2, 0, 0, 0, 0, 0, 0, 0, 0, (byte)'b'], [1, 0, 0]];

        foreach (var payload in payloads)
        {
            var value = Convert.ToBase64String(inner.Protect(payload)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            Assert.IsFalse(protector.TryUnprotect(value, out _, out _));
        }
    }
}
