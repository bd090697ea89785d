namespace Balancing;

/// <summary>
/// Session affinity of one pool (<c>Pools:&lt;name&gt;:SessionAffinity</c>): once a client has been served by a backend,
/// its later requests go to the same backend, for apps that keep session state in a backend's memory. The client
/// carries the pin, a value protected with ASP.NET Core Data Protection, in a cookie or a header (see docs/AFFINITY.md).
/// </summary>
public sealed class SessionAffinityOptions
{
    /// <summary>The cookie name used when <see cref="Name"/> is not set and <see cref="Mode"/> is <see cref="SessionAffinityMode.Cookie"/>.</summary>
    public const string DefaultCookieName = ".Balancing.Affinity";

    /// <summary>The header name used when <see cref="Name"/> is not set and <see cref="Mode"/> is <see cref="SessionAffinityMode.Header"/>.</summary>
    public const string DefaultHeaderName = "X-Balancing-Affinity";

    /// <summary>Gets or sets a value indicating whether the pool pins clients to backends.</summary>
    /// <value>The default is <see langword="false"/>: every request is placed by the strategy.</value>
    public bool Enabled { get; set; }

    /// <summary>Gets or sets how the client carries its pin.</summary>
    /// <value>The default is <see cref="SessionAffinityMode.Cookie"/>, which browsers handle without any client code.</value>
    public SessionAffinityMode Mode { get; set; } = SessionAffinityMode.Cookie;

    /// <summary>Gets or sets the name of the cookie or header that carries the pin: an HTTP token (letters, digits and <c>!#$%&amp;'*+-.^_`|~</c>).</summary>
    /// <value>
    /// The default is <see langword="null"/>: <see cref="DefaultCookieName"/> in cookie mode, <see cref="DefaultHeaderName"/> in header mode.
    /// </value>
    public string? Name { get; set; }

    /// <summary>Gets or sets the cookie's <c>Path</c> attribute. Cookie mode only.</summary>
    /// <value>The default is <c>/</c>: the cookie is sent with every request to the balancer's host.</value>
    public string Path { get; set; } = "/";

    /// <summary>Gets or sets the cookie's <c>Domain</c> attribute, or <see langword="null"/> for a host-only cookie. Cookie mode only.</summary>
    /// <value>The default is <see langword="null"/>: the cookie goes back only to the host that set it.</value>
    public string? Domain { get; set; }

    /// <summary>
    /// Gets or sets how long a pin lasts. It bounds the cookie (<c>Max-Age</c> and <c>Expires</c>) and the age of any
    /// pin the balancer accepts: a pin issued longer ago than this is stale and ignored, whatever the client kept.
    /// </summary>
    /// <value>The default is <see langword="null"/>: a browser-session cookie, and pins never go stale.</value>
    public TimeSpan? Lifetime { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether a pin in use is renewed (with a fresh <see cref="Lifetime"/>) once more than half
    /// of its lifetime has passed, so an active client keeps its backend. Applies only when <see cref="Lifetime"/> is set.
    /// </summary>
    /// <value>The default is <see langword="false"/>: a pin lasts <see cref="Lifetime"/> from the moment it was issued.</value>
    public bool SlidingExpiration { get; set; }

    /// <summary>Gets or sets the cookie's <c>SameSite</c> attribute. Cookie mode only.</summary>
    /// <value>The default is <see cref="AffinityCookieSameSite.Lax"/>, what browsers assume for a cookie without the attribute.</value>
    public AffinityCookieSameSite SameSite { get; set; } = AffinityCookieSameSite.Lax;

    /// <summary>Gets or sets when the cookie gets the <c>Secure</c> attribute. Cookie mode only.</summary>
    /// <value>The default is <see cref="AffinityCookieSecurePolicy.SameAsRequest"/>: secure when the request came over HTTPS.</value>
    public AffinityCookieSecurePolicy SecurePolicy { get; set; } = AffinityCookieSecurePolicy.SameAsRequest;

    /// <summary>Gets or sets what happens when the backend a request is pinned to cannot take it.</summary>
    /// <value>
    /// The default is <see cref="AffinityUnavailablePolicy.Redistribute"/>: the strategy chooses another backend and the
    /// client is pinned to it, which loses the session state but not the request.
    /// </value>
    public AffinityUnavailablePolicy OnUnavailable { get; set; } = AffinityUnavailablePolicy.Redistribute;
}

/// <summary>How a client carries its session-affinity pin.</summary>
public enum SessionAffinityMode
{
    /// <summary>An HttpOnly cookie that the balancer sets and the browser sends back.</summary>
    Cookie = 0,

    /// <summary>A request header; the balancer sends a new pin in the same response header, and the client echoes it.</summary>
    Header = 1,
}

/// <summary>The <c>SameSite</c> attribute of the affinity cookie.</summary>
public enum AffinityCookieSameSite
{
    /// <summary>Sent on top-level navigations from other sites, not on their subrequests.</summary>
    Lax = 0,

    /// <summary>Sent only with requests that start on the same site.</summary>
    Strict = 1,

    /// <summary>Sent with every request, cross-site included; browsers accept it only on a <c>Secure</c> cookie.</summary>
    None = 2,
}

/// <summary>When the affinity cookie gets the <c>Secure</c> attribute.</summary>
public enum AffinityCookieSecurePolicy
{
    /// <summary>When the request came over HTTPS.</summary>
    SameAsRequest = 0,

    /// <summary>Always, also when the balancer itself is reached over HTTP (behind a TLS-terminating proxy, for example).</summary>
    Always = 1,
}

/// <summary>What a pool does with a request whose pinned backend cannot take it (unavailable, drained, removed or unreachable).</summary>
public enum AffinityUnavailablePolicy
{
    /// <summary>Let the strategy choose another backend, and pin the client to the backend that served it.</summary>
    Redistribute = 0,

    /// <summary>Answer 503 with <c>Retry-After</c>; the request is sent to no other backend, and the pin is kept.</summary>
    Fail = 1,
}
