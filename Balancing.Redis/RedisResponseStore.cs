using System.Text;
using Balancing.AspNetCore.Caching;
using Microsoft.Extensions.Primitives;
using StackExchange.Redis;

namespace Balancing.Redis;

/// <summary>
/// The response cache's second level in Redis: a response stored by one instance is served by the others. Entries keep
/// their freshness metadata, so <c>Age</c> and staleness are computed from when the backend answered, whichever instance
/// serves them; Redis drops an entry once it can no longer be served or revalidated.
/// </summary>
/// <remarks>
/// During an outage every lookup is a miss and nothing is written: the cache is memory only until Redis returns. Writes
/// and removals are fire-and-forget, so a request never waits for them.
/// </remarks>
internal sealed class RedisResponseStore : ISecondLevelCache
{
    private const byte FormatVersion = 2;

    /// <summary>How long a stale entry with validators is kept after it stops being fresh, for revalidation with 304.</summary>
    private static readonly TimeSpan RevalidationGrace = TimeSpan.FromHours(1);

    /// <summary>How many keys one scan step returns and one delete removes.</summary>
    private const int PurgeBatch = 500;

    private readonly RedisConnection _redis;
    private readonly TimeProvider _timeProvider;
    private readonly RedisChannel _purgeChannel;

    /// <summary>Names this instance's purge messages, so that it does not act on its own.</summary>
    private readonly string _instance = Guid.NewGuid().ToString("N");

    public RedisResponseStore(RedisConnection redis, TimeProvider timeProvider)
    {
        _redis = redis;
        _timeProvider = timeProvider;
        _purgeChannel = RedisChannel.Literal(redis.Options.KeyPrefix + "cache:purge");
        Subscribe();
    }

    public event Action<string?>? Purged;

    public async Task<long?> PurgeAsync(string? pathPrefix, CancellationToken cancellationToken)
    {
        if (!_redis.IsAvailable)
        {
            return null;
        }

        try
        {
            // The others drop their memory first: a request they serve from memory meanwhile would otherwise outlive
            // the purge, while one that misses finds the store emptied a moment later at worst.
            await _redis.Subscriber.PublishAsync(_purgeChannel, _instance + "\n" + pathPrefix).ConfigureAwait(false);

            var keyPrefix = _redis.Options.KeyPrefix + "cache:";
            long removed = 0;
            var batch = new List<RedisKey>(PurgeBatch);
            foreach (var server in _redis.Primaries)
            {
                await foreach (var key in server.KeysAsync(pattern: keyPrefix + "*", pageSize: PurgeBatch).WithCancellation(cancellationToken).ConfigureAwait(false))
                {
                    var name = ((string?)key)?[keyPrefix.Length..];
                    if (name is null
                        || (pathPrefix is not null && !ResponseCache.TargetOf(name).StartsWith(pathPrefix, StringComparison.Ordinal)))
                    {
                        continue;
                    }

                    batch.Add(key);
                    if (batch.Count == PurgeBatch)
                    {
                        removed += await _redis.Database.KeyDeleteAsync([.. batch]).ConfigureAwait(false);
                        batch.Clear();
                    }
                }
            }

            if (batch.Count > 0)
            {
                removed += await _redis.Database.KeyDeleteAsync([.. batch]).ConfigureAwait(false);
            }

            return removed;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            _redis.ReportFailure(e);
            return null;
        }
    }

    private void Subscribe()
    {
        try
        {
            // Without waiting: the multiplexer keeps the subscription and restores it whenever it reconnects.
            _ = _redis.Subscriber.SubscribeAsync(_purgeChannel, (_, message) => OnPurgeMessage(message)).ContinueWith(
                static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            _redis.ReportFailure(e);
        }
    }

    private void OnPurgeMessage(RedisValue message)
    {
        // "<instance>\n<prefix>", the prefix empty for everything.
        var text = (string?)message;
        var newline = text?.IndexOf('\n') ?? -1;
        if (text is null || newline < 0 || text.AsSpan(0, newline).SequenceEqual(_instance))
        {
            return;
        }

        var prefix = text[(newline + 1)..];
        Purged?.Invoke(prefix.Length == 0 ? null : prefix);
    }

    public async ValueTask<CachedResponse?> GetAsync(string key, CancellationToken cancellationToken)
    {
        if (!_redis.IsAvailable)
        {
            return null;
        }

        try
        {
            var value = await _redis.Database.StringGetAsync(RedisKeyFor(key)).ConfigureAwait(false);
            return value.IsNull ? null : Read(value!);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            _redis.ReportFailure(e);
            return null;
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException)
        {
            // Written by another version of the format, or damaged: a miss, and the next store replaces it.
            return null;
        }
    }

    public void Set(CachedResponse entry)
    {
        var freshness = entry.Freshness;
        var left = freshness.Lifetime - freshness.CurrentAge(_timeProvider.GetUtcNow());
        var expiry = (left > TimeSpan.Zero ? left : TimeSpan.Zero) + (freshness.HasValidators ? RevalidationGrace : TimeSpan.Zero);
        if (!_redis.IsAvailable || expiry <= TimeSpan.Zero)
        {
            return;
        }

        Run(db => db.StringSetAsync(RedisKeyFor(entry.Key), Write(entry), expiry, flags: CommandFlags.FireAndForget));
    }

    public void Remove(string key)
    {
        if (_redis.IsAvailable)
        {
            Run(db => db.KeyDeleteAsync(RedisKeyFor(key), CommandFlags.FireAndForget));
        }
    }

    private void Run(Func<IDatabase, Task> command)
    {
        try
        {
            _ = command(_redis.Database);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            _redis.ReportFailure(e);
        }
    }

    private RedisKey RedisKeyFor(string key) => _redis.Options.KeyPrefix + "cache:" + key;

    private static byte[] Write(CachedResponse entry)
    {
        using var buffer = new MemoryStream(entry.Body.Length + 512);
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            var f = entry.Freshness;
            writer.Write(FormatVersion);
            writer.Write(entry.Key);
            writer.Write(entry.StatusCode);
            writer.Write(f.ResponseTime.UtcTicks);
            writer.Write(f.CorrectedInitialAge.Ticks);
            writer.Write(f.Lifetime.Ticks);
            writer.Write(f.NoCache);
            writer.Write(f.SharedWithAuthorization);
            WriteOptional(writer, f.ETag);
            WriteOptional(writer, f.LastModified);
            writer.Write(f.LastModifiedDate?.UtcTicks ?? -1);
            writer.Write(f.StaleIfError?.Ticks ?? -1);
            writer.Write(entry.Headers.Length);
            foreach (var (name, values) in entry.Headers)
            {
                writer.Write(name);
                writer.Write(values.Count);
                foreach (var value in values)
                {
                    writer.Write(value ?? "");
                }
            }

            writer.Write(entry.Body.Length);
            writer.Write(entry.Body);
        }

        return buffer.ToArray();
    }

    private static CachedResponse Read(byte[] data)
    {
        using var reader = new BinaryReader(new MemoryStream(data), Encoding.UTF8);
        if (reader.ReadByte() != FormatVersion)
        {
            throw new InvalidDataException("Unknown cache entry format.");
        }

        var key = reader.ReadString();
        var status = reader.ReadInt32();
        var responseTime = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero);
        var initialAge = new TimeSpan(reader.ReadInt64());
        var lifetime = new TimeSpan(reader.ReadInt64());
        var noCache = reader.ReadBoolean();
        var sharedWithAuthorization = reader.ReadBoolean();
        var etag = ReadOptional(reader);
        var lastModified = ReadOptional(reader);
        var lastModifiedTicks = reader.ReadInt64();
        var staleIfErrorTicks = reader.ReadInt64();
        var headers = new KeyValuePair<string, StringValues>[reader.ReadInt32()];
        for (var i = 0; i < headers.Length; i++)
        {
            var name = reader.ReadString();
            var values = new string[reader.ReadInt32()];
            for (var j = 0; j < values.Length; j++)
            {
                values[j] = reader.ReadString();
            }

            headers[i] = new(name, new StringValues(values));
        }

        var body = reader.ReadBytes(reader.ReadInt32());
        var freshness = new ResponseFreshness(responseTime, initialAge, lifetime, noCache, etag, lastModified,
            lastModifiedTicks < 0 ? null : new DateTimeOffset(lastModifiedTicks, TimeSpan.Zero), sharedWithAuthorization)
        {
            StaleIfError = staleIfErrorTicks < 0 ? null : new TimeSpan(staleIfErrorTicks),
        };
        return new CachedResponse(status, headers, body, freshness, [], key);
    }

    private static void WriteOptional(BinaryWriter writer, string? value)
    {
        writer.Write(value is not null);
        if (value is not null)
        {
            writer.Write(value);
        }
    }

    private static string? ReadOptional(BinaryReader reader) => reader.ReadBoolean() ? reader.ReadString() : null;
}
