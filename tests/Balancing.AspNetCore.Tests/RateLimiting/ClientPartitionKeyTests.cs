using System.Net;
using Balancing.AspNetCore.RateLimiting;

namespace Balancing.AspNetCore.Tests.RateLimiting;

[TestClass]
public sealed class ClientPartitionKeyTests
{
    [TestMethod]
    public void For_DifferentIPv4Addresses_AreDifferentKeys()
    {
        var a = ClientPartitionKey.For(IPAddress.Parse("203.0.113.9"), 64);
        var b = ClientPartitionKey.For(IPAddress.Parse("203.0.113.10"), 64);

        Assert.AreNotEqual(a, b);
    }

    [TestMethod]
    public void For_IPv4AndItsMappedIPv6Form_AreTheSameKey()
    {
        var plain = ClientPartitionKey.For(IPAddress.Parse("203.0.113.9"), 64);
        var mapped = ClientPartitionKey.For(IPAddress.Parse("::ffff:203.0.113.9"), 64);

        Assert.AreEqual(plain, mapped);
        Assert.AreEqual("203.0.113.9", ClientPartitionKey.Describe(plain, 64));
    }

    [TestMethod]
    public void For_IPv6InTheSame64_IsOneKey()
    {
        var a = ClientPartitionKey.For(IPAddress.Parse("2001:db8:1:2::1"), 64);
        var b = ClientPartitionKey.For(IPAddress.Parse("2001:db8:1:2:ffff:ffff:ffff:ffff"), 64);

        Assert.AreEqual(a, b);
        Assert.AreEqual("2001:db8:1:2::/64", ClientPartitionKey.Describe(a, 64));
    }

    [TestMethod]
    public void For_IPv6InNeighbouring64s_AreDifferentKeys()
    {
        var a = ClientPartitionKey.For(IPAddress.Parse("2001:db8:1:2::1"), 64);
        var b = ClientPartitionKey.For(IPAddress.Parse("2001:db8:1:3::1"), 64);

        Assert.AreNotEqual(a, b);
    }

    [TestMethod]
    public void For_PrefixLength128_KeepsEveryAddressApart()
    {
        var a = ClientPartitionKey.For(IPAddress.Parse("2001:db8:1:2::1"), 128);
        var b = ClientPartitionKey.For(IPAddress.Parse("2001:db8:1:2::2"), 128);

        Assert.AreNotEqual(a, b);
        Assert.AreEqual("2001:db8:1:2::1", ClientPartitionKey.Describe(a, 128));
    }

    [TestMethod]
    [DataRow("2001:db8:abcd:12ff::1", 48, "2001:db8:abcd::/48")]
    [DataRow("2001:db8:abcd:12ff::1", 56, "2001:db8:abcd:1200::/56")]
    [DataRow("2001:db8:abcd:12ff::1", 60, "2001:db8:abcd:12f0::/60")]
    [DataRow("2001:db8:abcd:12ff::1", 1, "::/1")]
    public void For_ShorterPrefixes_KeepOnlyTheLeadingBits(string address, int prefix, string expected)
    {
        var key = ClientPartitionKey.For(IPAddress.Parse(address), prefix);

        Assert.AreEqual(expected, ClientPartitionKey.Describe(key, prefix));
    }

    [TestMethod]
    public void For_IPv4_IsNotGroupedByTheIPv6Prefix()
    {
        // 203.0.113.9 and 203.0.113.10 share their first 64 bits in mapped form; they must still be two clients.
        var a = ClientPartitionKey.For(IPAddress.Parse("203.0.113.9"), 1);
        var b = ClientPartitionKey.For(IPAddress.Parse("203.0.113.10"), 1);

        Assert.AreNotEqual(a, b);
    }

    [TestMethod]
    public void For_UnknownAddress_IsTheSharedUnknownKey()
    {
        Assert.AreEqual(ClientPartitionKey.Unknown, ClientPartitionKey.For(null, 64));
    }

    [TestMethod]
    public void For_AnyAddress_AllocatesNothing()
    {
        var v4 = IPAddress.Parse("203.0.113.9");
        var v6 = IPAddress.Parse("2001:db8:1:2::1");
        ClientPartitionKey.For(v4, 64);
        ClientPartitionKey.For(v6, 64);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            ClientPartitionKey.For(v4, 64);
            ClientPartitionKey.For(v6, 64);
        }

        Assert.AreEqual(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
