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
}
