using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Balancing.AspNetCore.Tests.Infrastructure;

/// <summary>
/// An address of this machine that is not loopback: connecting to a server through it makes the server see a peer that
/// is not loopback, which is how tests play a remote client (admin endpoints, a second rate-limited client).
/// </summary>
internal static class RemoteAddress
{
    /// <summary>Finds a non-loopback IPv4 address of an interface that is up, or ends the test as Inconclusive.</summary>
    public static IPAddress NonLoopbackIPv4()
    {
        var address = NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.OperationalStatus == OperationalStatus.Up)
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        if (address is null)
        {
            Assert.Inconclusive("This machine has no non-loopback IPv4 address to play a remote client from.");
        }

        return address!;
    }
}
