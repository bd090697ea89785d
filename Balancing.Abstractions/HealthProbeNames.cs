namespace Balancing;

/// <summary>
/// The names of the built-in health probes, as used in configuration (<c>Pools:&lt;name&gt;:HealthCheck:Active:Probe</c>).
/// Probes an app registers with <c>AddHealthProbe&lt;TProbe&gt;(name)</c> are chosen by their own names.
/// </summary>
public static class HealthProbeNames
{
    /// <summary><c>GET {backend address}{Path}</c>; an expected status code passes.</summary>
    public const string Http = "Http";

    /// <summary>A TCP connection to the backend's host and port; a completed connect passes.</summary>
    public const string Tcp = "Tcp";
}
