using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.RateLimiting;
using Balancing.AspNetCore.RateLimiting;
using Balancing.Configuration;
using StackExchange.Redis;

namespace Balancing.Redis;

/// <summary>
/// Counts per-client limits in Redis, one atomic Lua script per check, so that every balancer instance draws on one
/// allowance per client. While Redis is unavailable, <see cref="RedisOptions.OnUnavailable"/> decides: the instance's own
/// limiter, or a refusal.
/// </summary>
/// <remarks>
/// The scripts take the time from Redis (<c>TIME</c>), not from the instances, so clock skew between instances cannot
/// widen a limit, and they work in milliseconds, so windows shorter than a second hold. A <c>Concurrency</c> limit counts
/// requests in progress, which a lost instance would leave counted for ever in Redis: it stays per instance.
/// <c>QueueLimit</c> is not shared either: a request over a shared limit is refused at once.
/// </remarks>
internal sealed class RedisRateLimitStore : ISharedRateLimitStore
{
    // A bucket of ARGV[1] tokens, refilled continuously at ARGV[2] tokens per ARGV[3] milliseconds.
    private const string TokenBucketScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local limit = tonumber(ARGV[1])
        local rate = tonumber(ARGV[2])
        local period = tonumber(ARGV[3])
        local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
        local tokens = tonumber(state[1]) or limit
        local at = tonumber(state[2]) or now
        if now > at then tokens = math.min(limit, tokens + (now - at) * rate / period) end
        local allowed = 0
        local retry = 0
        if tokens >= 1 then
          tokens = tokens - 1
          allowed = 1
        else
          retry = math.ceil((1 - tokens) * period / rate)
        end
        redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
        redis.call('PEXPIRE', KEYS[1], math.ceil((limit - tokens) * period / rate) + period)
        return { allowed, retry }
        """;

    // ARGV[1] requests per window of ARGV[2] milliseconds, the window starting with its first request.
    private const string FixedWindowScript = """
        local count = redis.call('INCR', KEYS[1])
        if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
        if count > tonumber(ARGV[1]) then return { 0, redis.call('PTTL', KEYS[1]) } end
        return { 1, 0 }
        """;

    // ARGV[1] requests in any window of ARGV[2] milliseconds: a log of the window's requests in a sorted set.
    private const string SlidingWindowScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local window = tonumber(ARGV[2])
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
        if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
          redis.call('ZADD', KEYS[1], now, ARGV[3])
          redis.call('PEXPIRE', KEYS[1], window)
          return { 1, 0 }
        end
        local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
        return { 0, tonumber(oldest[2]) + window - now }
        """;

    private static readonly TimeSpan FailClosedRetryAfter = TimeSpan.FromSeconds(1);

    private readonly RedisConnection _redis;
    private readonly ConditionalWeakTable<ClientRateLimiter, string> _prefixes = [];

    public RedisRateLimitStore(RedisConnection redis) => _redis = redis;

    public async ValueTask<RateLimitLease> AcquireAsync(ClientRateLimiter local, UInt128 client, CancellationToken cancellationToken)
    {
        var policy = local.Policy;
        if (policy.Algorithm == RateLimitAlgorithm.Concurrency)
        {
            return await local.AcquireAsync(client, 1, cancellationToken).ConfigureAwait(false);
        }

        if (!_redis.IsAvailable)
        {
            return await WithoutRedisAsync(local, client, cancellationToken).ConfigureAwait(false);
        }

        RedisKey key = _prefixes.GetValue(local, KeyPrefix) + client.ToString("x", CultureInfo.InvariantCulture);
        var window = (long)Math.Ceiling(policy.Window.TotalMilliseconds);
        try
        {
            var result = policy.Algorithm switch
            {
                RateLimitAlgorithm.FixedWindow => await _redis.Database.ScriptEvaluateAsync(
                    FixedWindowScript, [key], [policy.PermitLimit, window]).ConfigureAwait(false),
                RateLimitAlgorithm.SlidingWindow => await _redis.Database.ScriptEvaluateAsync(
                    SlidingWindowScript, [key], [policy.PermitLimit, window, Guid.NewGuid().ToString("N")]).ConfigureAwait(false),
                _ => await _redis.Database.ScriptEvaluateAsync(
                    TokenBucketScript, [key], [policy.PermitLimit, policy.TokensPerPeriod, window]).ConfigureAwait(false),
            };

            var values = (RedisResult[])result!;
            return (long)values[0] == 1 ? SharedLease.Acquired : new SharedLease(TimeSpan.FromMilliseconds(Math.Max(1, (long)values[1])));
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            _redis.ReportFailure(e);
            return await WithoutRedisAsync(local, client, cancellationToken).ConfigureAwait(false);
        }
    }

    private ValueTask<RateLimitLease> WithoutRedisAsync(ClientRateLimiter local, UInt128 client, CancellationToken cancellationToken)
        => _redis.Options.OnUnavailable == RedisUnavailablePolicy.FailClosed
            ? ValueTask.FromResult<RateLimitLease>(new SharedLease(FailClosedRetryAfter))
            : local.AcquireAsync(client, 1, cancellationToken);

    /// <summary>
    /// The keys of one limit: its scope and its policy, so that two limits never share counts and a changed limit
    /// starts afresh, as it does in memory.
    /// </summary>
    private string KeyPrefix(ClientRateLimiter limiter)
    {
        var p = limiter.Policy;
        return string.Create(CultureInfo.InvariantCulture,
            $"{_redis.Options.KeyPrefix}rl:{limiter.Scope}:{p.Algorithm}-{p.PermitLimit}-{p.TokensPerPeriod}-{(long)p.Window.TotalMilliseconds}:");
    }

    /// <summary>A permit granted or refused by Redis: nothing to give back when the request ends.</summary>
    private sealed class SharedLease : RateLimitLease
    {
        public static readonly SharedLease Acquired = new(null);

        private readonly TimeSpan? _retryAfter;

        public SharedLease(TimeSpan? retryAfter) => _retryAfter = retryAfter;

        public override bool IsAcquired => _retryAfter is null;

        public override IEnumerable<string> MetadataNames => _retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = _retryAfter is { } retryAfter && metadataName == MetadataName.RetryAfter.Name ? retryAfter : null;
            return metadata is not null;
        }
    }
}
