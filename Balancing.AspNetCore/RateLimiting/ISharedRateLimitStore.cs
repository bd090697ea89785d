using System.Threading.RateLimiting;

namespace Balancing.AspNetCore.RateLimiting;

/// <summary>
/// Counts a limit across every balancer instance instead of in this process alone (Balancing.Redis). The forwarder still
/// resolves the client, the exemptions and the limit; the store only decides whether the client has a permit left.
/// </summary>
/// <remarks>
/// The store receives the local limiter as well: when its shared counts cannot be reached it may fall back to it, so a
/// lost store degrades to per-instance limits rather than to no limits.
/// </remarks>
internal interface ISharedRateLimitStore
{
    /// <summary>Takes one permit for <paramref name="client"/> under <paramref name="local"/>'s policy.</summary>
    ValueTask<RateLimitLease> AcquireAsync(ClientRateLimiter local, UInt128 client, CancellationToken cancellationToken);
}
