namespace Balancing;

/// <summary>
/// How the balancer checks the certificates of a pool's <c>https</c> backends (see docs/PROTOCOLS.md). The certificate
/// is always validated; these settings only say what it is validated against.
/// </summary>
public sealed class BackendTlsOptions
{
    /// <summary>
    /// Gets or sets the path of a PEM file holding the certificate authority (or authorities) that issued the
    /// backends' certificates. When set, a backend's chain must end at one of them and the machine's trusted roots are
    /// not consulted; the host name (or <see cref="ServerName"/>) and the validity dates are still checked.
    /// </summary>
    /// <value>The default is <see langword="null"/>: the machine's trusted roots, as for any HTTPS client.</value>
    public string? CaCertificatePath { get; set; }

    /// <summary>
    /// Gets or sets the name the backend's certificate must carry (subject alternative name), when it differs from the
    /// host of the backend's address, for example a backend reached by IP address whose certificate names its service.
    /// It is also sent as the TLS server name (SNI).
    /// </summary>
    /// <value>The default is <see langword="null"/>: the host of each backend's address.</value>
    public string? ServerName { get; set; }
}
