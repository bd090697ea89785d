using System.Net;

namespace Balancing;

/// <summary>
/// What a strategy may know about the request it places: a small description, independent of ASP.NET Core,
/// so the same strategies balance server-side forwarding and client-side <c>HttpClient</c> calls alike.
/// </summary>
public readonly struct BalancingContext
{
    /// <summary>Creates a context.</summary>
    /// <param name="clientAddress">The client's address, when known.</param>
    /// <param name="key">A key for strategies that hash (header, cookie, path...), when one was configured.</param>
    /// <param name="attempt">The attempt number, starting at 1.</param>
    public BalancingContext(IPAddress? clientAddress, string? key = null, int attempt = 1)
    {
        ClientAddress = clientAddress;
        Key = key;
        Attempt = attempt;
    }

    /// <summary>Gets the client's address, or <see langword="null"/> when it is not known.</summary>
    public IPAddress? ClientAddress { get; }

    /// <summary>Gets the key that hashing strategies use, or <see langword="null"/>.</summary>
    public string? Key { get; }

    /// <summary>Gets the attempt number, starting at 1; later attempts are retries.</summary>
    public int Attempt { get; }

    /// <summary>
    /// Gets the name of the backend this request is pinned to by session affinity, or <see langword="null"/> when it is
    /// not pinned. The caller has already verified the pin (for example by unprotecting an affinity cookie); the balancer
    /// does not check it again. On the first attempt the pinned backend is used, before the strategy, whenever it is
    /// among the available backends; what happens when it is not is the pool's <c>SessionAffinity:OnUnavailable</c>.
    /// </summary>
    public string? AffinityBackendId { get; init; }
}
