using System.Net;

namespace Balancing.Forwarding;

/// <summary>Builds the primary handler for backend connections, with the settings a proxy needs.</summary>
internal static class BackendHttpHandler
{
    public static SocketsHttpHandler Create(BackendConnectionOptions options, BackendCertificateValidation certificates) => new()
    {
        // A proxy forwards; it does not act as a browser. A cookie container would leak one user's
        // cookies into another's requests; following redirects or decompressing would change what
        // the client receives; the system proxy would send backend traffic somewhere unexpected.
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectTimeout = options.ConnectTimeout,
        PooledConnectionIdleTimeout = options.PooledConnectionIdleTimeout,
        PooledConnectionLifetime = options.PooledConnectionLifetime,
        MaxConnectionsPerServer = options.MaxConnectionsPerServer,
        EnableMultipleHttp2Connections = true,
        // Response headers are copied to the client as they are; the framework's limit (64 KiB) is kept.
        MaxResponseHeadersLength = 64,
        // The backend must see the balancer's trace context, not the copy of the client's that came with the headers.
        ActivityHeadersPropagator = Diagnostics.ProxyTracePropagator.Instance,
        // Certificates are always validated; a pool may name its own authority (Tls:CaCertificatePath).
        SslOptions = new System.Net.Security.SslClientAuthenticationOptions { RemoteCertificateValidationCallback = certificates.Validate },
    };
}
