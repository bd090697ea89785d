namespace Balancing;

/// <summary>Settings of the <see cref="LoadStrategyNames.ConsistentHash"/> strategy.</summary>
public sealed class ConsistentHashOptions
{
    /// <summary>The default <see cref="TableSize"/>: a prime, 2^16 + 1, the size the Maglev paper uses for small pools.</summary>
    public const int DefaultTableSize = 65537;

    /// <summary>Gets or sets what part of the request is hashed to choose a backend.</summary>
    /// <value>The default is <see cref="ConsistentHashKey.ClientIp"/>.</value>
    public ConsistentHashKey Key { get; set; } = ConsistentHashKey.ClientIp;

    /// <summary>Gets or sets the header or cookie whose value is hashed; required when <see cref="Key"/> is <see cref="ConsistentHashKey.Header"/> or <see cref="ConsistentHashKey.Cookie"/>.</summary>
    /// <value>The default is <see langword="null"/>.</value>
    public string? KeyName { get; set; }

    /// <summary>
    /// Gets or sets ε of consistent hashing with bounded loads (Mirrokni, Thorup and Zadimoghaddam): a backend already
    /// serving <c>ceil((1 + ε) × (requests in flight + 1) × its weight / total weight)</c> requests is passed over, and the
    /// key goes to the next backend of its table walk. 0 turns the bound off: a key always reaches its own backend.
    /// </summary>
    /// <value>
    /// The default is 0.25: no backend runs more than 25 % above its share, while a key still reaches its own backend
    /// whenever that backend is not among the busiest.
    /// </value>
    public double BoundedLoad { get; set; } = 0.25;

    /// <summary>
    /// Gets or sets the number of slots of the Maglev lookup table: a prime from 101 to 1000003. Pools of more than
    /// <c>TableSize / 100</c> backends get the next prime above 100 per backend, so each backend's share stays within
    /// about 1 % of its weight.
    /// </summary>
    /// <value>The default is <see cref="DefaultTableSize"/> (65537): even shares for up to 655 backends, 256 KiB per pool.</value>
    public int TableSize { get; set; } = DefaultTableSize;
}

/// <summary>What a <see cref="LoadStrategyNames.ConsistentHash"/> pool hashes to place a request.</summary>
public enum ConsistentHashKey
{
    /// <summary>
    /// The client's address: the TCP peer, or, in <c>XForwarded: Append</c> mode when the peer is one of the
    /// <c>TrustedProxies</c>, the nearest untrusted address of <c>X-Forwarded-For</c>.
    /// </summary>
    ClientIp = 0,

    /// <summary>The first value of the request header named by <see cref="ConsistentHashOptions.KeyName"/>.</summary>
    Header = 1,

    /// <summary>The value of the cookie named by <see cref="ConsistentHashOptions.KeyName"/>.</summary>
    Cookie = 2,

    /// <summary>The request path, without the query.</summary>
    Path = 3,
}
