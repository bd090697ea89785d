using System.Collections.Concurrent;
using System.Threading.RateLimiting;

namespace Balancing.AspNetCore.RateLimiting;

/// <summary>
/// One limit applied per client: a <see cref="PartitionedRateLimiter{TResource}"/> keyed by <see cref="ClientPartitionKey"/>,
/// whose partitions are the runtime's own limiters (<see cref="TokenBucketRateLimiter"/> and the others) made by
/// <see cref="RateLimitPolicy.CreateLimiter"/>.
/// </summary>
/// <remarks>
/// <para>
/// The partition table is its own rather than <c>PartitionedRateLimiter.Create</c>'s for two reasons. Finding a client's
/// limiter is a lock-free dictionary read, where the runtime's takes one lock shared by every request. And the table is
/// tended on a timer of the app's <see cref="TimeProvider"/>, so that dropping idle clients (what keeps memory bounded
/// when many distinct addresses appear) is observable and testable with a fake clock.
/// </para>
/// <para>
/// A heartbeat replenishes every partition and drops those unused for <see cref="RateLimitPolicy.IdleTimeout"/>: by then
/// they are back to their full allowance, so a new partition for a returning client behaves exactly as the old one would.
/// Dropped limiters are not disposed: a request that found one just before it was dropped still gets a working limiter.
/// </para>
/// </remarks>
internal sealed class ClientRateLimiter : PartitionedRateLimiter<UInt128>
{
    private readonly ConcurrentDictionary<UInt128, Partition> _partitions = new();
    private readonly TimeProvider _timeProvider;
    private readonly Func<UInt128, Partition> _create;
    private readonly ITimer _heartbeat;
    private readonly long _idleTimestampTicks;
    private int _beating;
    private bool _disposed;

    public ClientRateLimiter(RateLimitPolicy policy, TimeProvider timeProvider, string scope = "global")
    {
        Policy = policy;
        Scope = scope;
        _timeProvider = timeProvider;
        _idleTimestampTicks = (long)(policy.IdleTimeout.TotalSeconds * timeProvider.TimestampFrequency);
        _create = _ => new Partition(Policy.CreateLimiter(), _timeProvider.GetTimestamp());
        var interval = policy.HeartbeatInterval;
        _heartbeat = timeProvider.CreateTimer(static state => ((ClientRateLimiter)state!).Heartbeat(), this, interval, interval);
    }

    public RateLimitPolicy Policy { get; }

    /// <summary>
    /// Gets which requests the limit counts (<c>global</c>, or <c>route:</c> and the route's name when it was made for a
    /// route of its own); a shared store keys its counts by it, with the policy, so that two limits never share counts.
    /// </summary>
    public string Scope { get; }

    /// <summary>Gets how many clients have a partition now.</summary>
    public int PartitionCount => _partitions.Count;

    public override RateLimiterStatistics? GetStatistics(UInt128 resource)
        => _partitions.TryGetValue(resource, out var partition) ? partition.Limiter.GetStatistics() : null;

    protected override RateLimitLease AttemptAcquireCore(UInt128 resource, int permitCount)
        => Find(resource).Limiter.AttemptAcquire(permitCount);

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(UInt128 resource, int permitCount, CancellationToken cancellationToken)
        => Find(resource).Limiter.AcquireAsync(permitCount, cancellationToken);

    /// <summary>Replenishes every partition and drops the idle ones. Runs on the heartbeat; public for tests.</summary>
    public void Heartbeat()
    {
        // A slow sweep (many partitions) must not overlap the next tick.
        if (Interlocked.Exchange(ref _beating, 1) == 1)
        {
            return;
        }

        try
        {
            var now = _timeProvider.GetTimestamp();
            foreach (var (key, partition) in _partitions)
            {
                if (now - Volatile.Read(ref partition.LastUsed) >= _idleTimestampTicks && IsAtRest(partition.Limiter))
                {
                    // Only this instance: a client that came back in between has touched it, and keeps it next time.
                    _partitions.TryRemove(new KeyValuePair<UInt128, Partition>(key, partition));
                }
                else if (partition.Limiter is ReplenishingRateLimiter replenishing)
                {
                    replenishing.TryReplenish();
                }
            }
        }
        finally
        {
            Volatile.Write(ref _beating, 0);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _heartbeat.Dispose();

            // Requests still waiting in a queue get a refusal instead of waiting for a heartbeat that will not come.
            foreach (var partition in _partitions.Values)
            {
                partition.Limiter.Dispose();
            }

            _partitions.Clear();
        }

        base.Dispose(disposing);
    }

    private Partition Find(UInt128 key)
    {
        // A retired limiter (replaced by a reload) refuses, so its caller moves to the successor: new partitions here
        // would never be swept.
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
        if (!_partitions.TryGetValue(key, out var partition))
        {
            partition = _partitions.GetOrAdd(key, _create);
        }

        Volatile.Write(ref partition.LastUsed, _timeProvider.GetTimestamp());
        return partition;
    }

    /// <summary>Nothing waits in its queue, and (for a concurrency limit) no request holds a permit.</summary>
    private bool IsAtRest(RateLimiter limiter)
    {
        var statistics = limiter.GetStatistics();
        return statistics is null
            || (statistics.CurrentQueuedCount == 0
                && (Policy.Algorithm != RateLimitAlgorithm.Concurrency || statistics.CurrentAvailablePermits >= Policy.PermitLimit));
    }

    private sealed class Partition(RateLimiter limiter, long lastUsed)
    {
        public readonly RateLimiter Limiter = limiter;

        /// <summary>The <see cref="TimeProvider"/> timestamp of the last request.</summary>
        public long LastUsed = lastUsed;
    }
}
