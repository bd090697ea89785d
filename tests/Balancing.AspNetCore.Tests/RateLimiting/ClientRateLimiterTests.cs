using System.Buffers.Binary;
using System.Net;
using System.Threading.RateLimiting;
using Balancing.AspNetCore.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace Balancing.AspNetCore.Tests.RateLimiting;

[TestClass]
public sealed class ClientRateLimiterTests
{
    // A bucket that refills one token per hour: nothing comes back on its own during a test.
    private static readonly RateLimitPolicy Bucket = new(RateLimitAlgorithm.TokenBucket, PermitLimit: 3, Window: TimeSpan.FromHours(1), TokensPerPeriod: 3, SegmentsPerWindow: 1, QueueLimit: 0);

    [TestMethod]
    public void AttemptAcquire_OneClient_GetsExactlyThePermitLimit()
    {
        using var limiter = new ClientRateLimiter(Bucket, new FakeTimeProvider());
        var key = Key("203.0.113.9");

        var granted = Enumerable.Range(0, 5).Count(_ => limiter.AttemptAcquire(key).IsAcquired);

        Assert.AreEqual(3, granted);
        Assert.IsTrue(limiter.AttemptAcquire(Key("203.0.113.10")).IsAcquired, "another client has its own bucket");
    }

    [TestMethod]
    public void AttemptAcquire_OverTheLimit_SaysWhenToRetry()
    {
        using var limiter = new ClientRateLimiter(Bucket, new FakeTimeProvider());
        var key = Key("203.0.113.9");
        for (var i = 0; i < 3; i++)
        {
            limiter.AttemptAcquire(key).Dispose();
        }

        using var refused = limiter.AttemptAcquire(key);

        Assert.IsFalse(refused.IsAcquired);
        Assert.IsTrue(refused.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter));
        Assert.AreEqual(TimeSpan.FromHours(1), retryAfter);
        Assert.AreEqual(3600, RateLimitedResponse.RetryAfterSeconds(refused));
    }

    [TestMethod]
    public void Heartbeat_PartitionUsedWithinTheIdleTimeout_IsKeptWithItsCount()
    {
        var clock = new FakeTimeProvider();
        using var limiter = new ClientRateLimiter(Bucket, clock);
        var key = Key("203.0.113.9");
        for (var i = 0; i < 3; i++)
        {
            limiter.AttemptAcquire(key).Dispose();
        }

        clock.Advance(Bucket.IdleTimeout - TimeSpan.FromSeconds(1));

        Assert.AreEqual(1, limiter.PartitionCount);
        Assert.IsFalse(limiter.AttemptAcquire(key).IsAcquired, "a client over its limit stays over it while its partition lives");
    }

    [TestMethod]
    public void Heartbeat_PartitionIdleLongerThanTheTimeout_IsDropped()
    {
        var clock = new FakeTimeProvider();
        using var limiter = new ClientRateLimiter(Bucket, clock);
        limiter.AttemptAcquire(Key("203.0.113.9")).Dispose();

        clock.Advance(Bucket.IdleTimeout + TimeSpan.FromSeconds(1));

        Assert.AreEqual(0, limiter.PartitionCount);
    }

    [TestMethod]
    public void IdleTimeout_TokenBucket_CoversAFullRefill()
    {
        var policy = Bucket with { PermitLimit = 100, TokensPerPeriod = 10, Window = TimeSpan.FromSeconds(2) };

        // Ten periods of two seconds bring an empty bucket back to full; only then may it be forgotten.
        Assert.IsTrue(policy.IdleTimeout >= TimeSpan.FromSeconds(20), policy.IdleTimeout.ToString());
        Assert.AreEqual(RateLimitPolicy.MinIdleTimeout, (Bucket with { Window = TimeSpan.FromSeconds(1) }).IdleTimeout);
    }

    [TestMethod]
    public void Heartbeat_ConcurrencyPartitionHoldingAPermit_IsKeptWhileIdle()
    {
        var clock = new FakeTimeProvider();
        var policy = new RateLimitPolicy(RateLimitAlgorithm.Concurrency, 1, TimeSpan.FromSeconds(1), 1, 1, 0);
        using var limiter = new ClientRateLimiter(policy, clock);
        var key = Key("203.0.113.9");
        var held = limiter.AttemptAcquire(key);

        clock.Advance(policy.IdleTimeout * 3);
        Assert.AreEqual(1, limiter.PartitionCount, "dropping it would hand the client a second permit");
        Assert.IsFalse(limiter.AttemptAcquire(key).IsAcquired);

        held.Dispose();
        clock.Advance(policy.IdleTimeout * 2);
        Assert.AreEqual(0, limiter.PartitionCount);
    }

    [TestMethod]
    [DoNotParallelize]
    public void Heartbeat_100000DistinctClients_AreAllDroppedOnceIdle()
    {
        var clock = new FakeTimeProvider();
        using var limiter = new ClientRateLimiter(Bucket with { PermitLimit = 100, TokensPerPeriod = 100, Window = TimeSpan.FromSeconds(1) }, clock);
        var baseline = ManagedMemory();

        Span<byte> bytes = stackalloc byte[4];
        for (var i = 0; i < 100_000; i++)
        {
            // 10.0.0.0 + i: 100,000 distinct IPv4 clients, one request each.
            BinaryPrimitives.WriteUInt32BigEndian(bytes, 0x0A000000u + (uint)i);
            using var lease = limiter.AttemptAcquire(ClientPartitionKey.For(new IPAddress(bytes), 64));
            Assert.IsTrue(lease.IsAcquired);
        }

        var full = ManagedMemory();
        Assert.AreEqual(100_000, limiter.PartitionCount);

        clock.Advance(limiter.Policy.IdleTimeout + TimeSpan.FromSeconds(1));
        var drained = ManagedMemory();

        Assert.AreEqual(0, limiter.PartitionCount);
        var held = full - baseline;
        var left = drained - baseline;
        Assert.IsTrue(held > 10_000_000, $"100,000 partitions should hold megabytes, held {held:N0} bytes");
        Assert.IsTrue(left < held / 10, $"after the sweep {left:N0} of {held:N0} bytes are still held");
    }

    [TestMethod]
    public async Task Heartbeat_OnTheSystemClock_RefillsAnEmptyBucket()
    {
        using var limiter = new ClientRateLimiter(Bucket with { PermitLimit = 1, TokensPerPeriod = 1, Window = TimeSpan.FromMilliseconds(50) }, TimeProvider.System);
        var key = Key("203.0.113.9");
        Assert.IsTrue(limiter.AttemptAcquire(key).IsAcquired);
        Assert.IsFalse(limiter.AttemptAcquire(key).IsAcquired);

        // The limiters have no timers of their own: only the heartbeat can bring the token back.
        await Infrastructure.Eventually.TrueAsync(() => limiter.GetStatistics(key)?.CurrentAvailablePermits == 1, TimeSpan.FromSeconds(10));

        Assert.IsTrue(limiter.AttemptAcquire(key).IsAcquired);
    }

    private static UInt128 Key(string address) => ClientPartitionKey.For(IPAddress.Parse(address), 64);

    private static long ManagedMemory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
