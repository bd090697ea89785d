namespace Balancing;

/// <summary>
/// How the balancer reaches the Redis it shares with its other instances (<c>AddRedis</c>). Read once, at start-up.
/// </summary>
public sealed class RedisOptions
{
    /// <summary>Gets or sets the StackExchange.Redis configuration string, for example <c>redis.internal:6379,password=...</c>.</summary>
    /// <value>The default is empty; it must be set.</value>
    public string Configuration { get; set; } = "";

    /// <summary>Gets or sets the prefix of every key the balancer writes, so that several balancer fleets (or other apps) can share one Redis.</summary>
    /// <value>The default is <c>balancing:</c>.</value>
    public string KeyPrefix { get; set; } = "balancing:";

    /// <summary>Gets or sets what rate limiting does while Redis cannot be reached.</summary>
    /// <value>The default is <see cref="RedisUnavailablePolicy.LocalFallback"/>.</value>
    public RedisUnavailablePolicy OnUnavailable { get; set; } = RedisUnavailablePolicy.LocalFallback;

    /// <summary>Gets or sets how long to wait for a connection to Redis before counting it unavailable.</summary>
    /// <value>The default is 2 seconds.</value>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Gets or sets how long a request waits for one Redis command (a rate-limit check, a cache read) before it goes on without it.</summary>
    /// <value>The default is 250 milliseconds.</value>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Gets or sets whether the ASP.NET Core Data Protection key ring is kept in Redis, so that an affinity pin protected
    /// by one instance is read by every other.
    /// </summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool ShareDataProtectionKeys { get; set; } = true;

    /// <summary>Gets or sets the Data Protection application name every instance must share to read each other's pins.</summary>
    /// <value>The default is <c>Balancing</c>.</value>
    public string ApplicationName { get; set; } = "Balancing";
}
