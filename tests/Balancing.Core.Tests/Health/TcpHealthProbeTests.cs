using System.Net;
using System.Net.Sockets;
using Balancing.Health;

namespace Balancing.Core.Tests.Health;

/// <summary>The TCP probe against real sockets on 127.0.0.1.</summary>
[TestClass]
public sealed class TcpHealthProbeTests
{
    [TestMethod]
    public async Task ProbeAsync_PortListening_Passes()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var result = await new TcpHealthProbe().ProbeAsync(new BackendState("b1", new Uri($"http://127.0.0.1:{port}/api")), CancellationToken.None);

        Assert.AreEqual((true, "TCP connect"), (result.IsHealthy, result.Description));
    }

    [TestMethod]
    public async Task ProbeAsync_PortClosed_FailsWithConnectionRefused()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var result = await new TcpHealthProbe().ProbeAsync(new BackendState("b1", new Uri($"http://127.0.0.1:{port}")), CancellationToken.None);

        Assert.AreEqual((false, "TCP connect failed: ConnectionRefused"), (result.IsHealthy, result.Description));
        Assert.IsInstanceOfType<SocketException>(result.Exception);
    }

    [TestMethod]
    public async Task ProbeAsync_TokenAlreadyCancelled_FailsAsTimedOut()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var result = await new TcpHealthProbe().ProbeAsync(new BackendState("b1", new Uri($"http://127.0.0.1:{port}")), new CancellationToken(canceled: true));

        Assert.AreEqual((false, "Timed out"), (result.IsHealthy, result.Description));
    }
}
