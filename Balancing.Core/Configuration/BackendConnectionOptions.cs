namespace Balancing;

/// <summary>Settings of the connections from the balancer to its backends.</summary>
/// <remarks>They are read when the first connection handler is built; changing them needs a restart.</remarks>
public sealed class BackendConnectionOptions
{
    /// <summary>Gets or sets how long a TCP (and TLS) connect may take.</summary>
    /// <value>The default is 5 seconds.</value>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how long an idle pooled connection is kept.</summary>
    /// <value>The default is 60 seconds.</value>
    public TimeSpan PooledConnectionIdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Gets or sets how long a pooled connection is used before a new one replaces it, so DNS changes are seen.</summary>
    /// <value>The default is 5 minutes.</value>
    public TimeSpan PooledConnectionLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets the most connections opened to one backend.</summary>
    /// <value>The default is <see cref="int.MaxValue"/> (no limit).</value>
    public int MaxConnectionsPerServer { get; set; } = int.MaxValue;
}
