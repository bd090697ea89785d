namespace Balancing;

/// <summary>How the balancer rewrites requests on their way to a backend.</summary>
public sealed class ForwardingOptions
{
    /// <summary>Gets or sets what happens to <c>X-Forwarded-For</c>, <c>X-Forwarded-Proto</c> and <c>X-Forwarded-Host</c>.</summary>
    /// <value>The default is <see cref="XForwardedMode.Set"/>.</value>
    public XForwardedMode XForwarded { get; set; } = XForwardedMode.Set;

    /// <summary>
    /// Gets the proxies whose forwarding headers are believed: IP addresses or CIDR networks
    /// (<c>10.0.0.0/8</c>, <c>2001:db8::/32</c>). Only a request whose TCP peer is listed here has its
    /// incoming <c>X-Forwarded-*</c> values kept and appended to.
    /// </summary>
    /// <value>The default is empty: not even loopback is trusted.</value>
    public List<string> TrustedProxies { get; } = [];

    /// <summary>Gets or sets the largest request body, in bytes, that is forwarded; larger ones are answered with 413.</summary>
    /// <value>The default is <see langword="null"/>: the server's own limit applies (Kestrel's is 30,000,000 bytes).</value>
    public long? MaxRequestBodySize { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether request headers whose names contain an underscore are forwarded. They are
    /// dropped by default, as NGINX does: CGI-style backends read <c>X_Forwarded_For</c> as <c>X-Forwarded-For</c>.
    /// </summary>
    /// <value>The default is <see langword="false"/>: such headers are not forwarded.</value>
    public bool AllowUnderscoresInHeaders { get; set; }
}

/// <summary>What the balancer does with the <c>X-Forwarded-*</c> headers.</summary>
public enum XForwardedMode
{
    /// <summary>Send the balancer's own values, replacing whatever the client sent.</summary>
    Set = 0,

    /// <summary>Append to the incoming values when the TCP peer is a trusted proxy; otherwise behave as <see cref="Set"/>.</summary>
    Append = 1,

    /// <summary>Remove the headers: the backend receives none.</summary>
    Remove = 2,

    /// <summary>Leave the headers as the client sent them. Only safe behind an edge that sets them itself.</summary>
    Off = 3,
}
