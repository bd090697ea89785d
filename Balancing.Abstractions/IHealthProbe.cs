namespace Balancing;

/// <summary>Checks whether a backend can serve traffic (an active health check).</summary>
public interface IHealthProbe
{
    /// <summary>Probes one backend once.</summary>
    /// <param name="backend">The backend to probe.</param>
    /// <param name="cancellationToken">Cancelled when the probe's timeout elapses or the balancer stops.</param>
    /// <returns>The result of the probe. Implementations report failures as results rather than throwing.</returns>
    ValueTask<ProbeResult> ProbeAsync(BackendState backend, CancellationToken cancellationToken);
}
