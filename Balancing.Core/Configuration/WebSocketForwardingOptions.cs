namespace Balancing;

/// <summary>
/// How a pool forwards WebSocket connections: an HTTP/1.1 <c>Upgrade: websocket</c> request, or an HTTP/2 extended
/// <c>CONNECT</c> (RFC 8441), becomes a tunnel of opaque bytes to one backend (see docs/PROTOCOLS.md).
/// </summary>
public sealed class WebSocketForwardingOptions
{
    /// <summary>
    /// Gets or sets a value indicating whether WebSocket requests are tunnelled to a backend. When off, the
    /// <c>Upgrade</c> header is dropped like any hop-by-hop header and the request is forwarded as a plain request.
    /// </summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Gets or sets how long a tunnel may carry no byte in either direction before the balancer closes both sides.
    /// Ping and pong frames count as traffic, so a connection kept alive by either end stays open.
    /// </summary>
    /// <value>
    /// The default is 5 minutes, longer than the keep-alive pings of common WebSocket servers (ASP.NET Core sends one
    /// every 2 minutes). <c>-00:00:00.001</c> turns the limit off.
    /// </value>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);
}
