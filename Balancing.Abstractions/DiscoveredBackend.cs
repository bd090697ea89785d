namespace Balancing;

/// <summary>One backend an <see cref="IBackendSource"/> found.</summary>
/// <param name="Id">
/// The backend's name, unique within its pool (case-insensitive) and stable across snapshots: a backend keeps its live
/// state while its id, address and host stay the same. The DNS source uses <c>{configured id}/{ip}:{port}</c>.
/// </param>
/// <param name="Address">The absolute http or https address requests are sent to, optionally with a path prefix.</param>
/// <param name="Weight">The backend's relative weight; 0 means no new traffic.</param>
/// <param name="Host">
/// The host (and port) sent as the <c>Host</c> header, and used for TLS SNI and certificate validation, when it differs
/// from the host of <paramref name="Address"/> (an address by IP, a service known by name); <see langword="null"/> to
/// use the address's own.
/// </param>
public sealed record DiscoveredBackend(string Id, Uri Address, int Weight = 1, string? Host = null);
