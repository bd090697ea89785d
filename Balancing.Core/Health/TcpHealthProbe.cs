using System.Net.Sockets;

namespace Balancing.Health;

/// <summary>
/// Probes a backend by opening a TCP connection to its host and port (80 or 443 when the address names none); a
/// completed connect passes and the connection is closed at once. Nothing is sent, so this suits backends with no
/// health endpoint; it proves that something listens, not that it answers.
/// </summary>
internal sealed class TcpHealthProbe : IHealthProbe
{
    public async ValueTask<ProbeResult> ProbeAsync(BackendState backend, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(backend);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(backend.Address.IdnHost, backend.Address.Port, cancellationToken).ConfigureAwait(false);
            return ProbeResult.Healthy("TCP connect");
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested)
        {
            return ProbeResult.Unhealthy("Timed out", ex);
        }
        catch (SocketException ex)
        {
            return ProbeResult.Unhealthy($"TCP connect failed: {ex.SocketErrorCode}", ex);
        }
    }
}
