using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Balancing.Routing;

/// <summary>
/// One entry of a route's <c>Hosts</c>, with the semantics of ASP.NET Core's <c>RequireHost</c>: <c>example.com</c>,
/// <c>*.example.com</c> (a subdomain at any depth, not the name itself), <c>*</c> (any host), each optionally followed
/// by <c>:port</c> or <c>:*</c>. Host names compare case-insensitively; a pattern without a port matches any port.
/// </summary>
internal sealed class HostPattern
{
    private readonly string _host;
    private readonly HostKind _kind;
    private readonly int? _port;

    private HostPattern(string host, HostKind kind, int? port)
    {
        _host = host;
        _kind = kind;
        _port = port;
        Specificity = (kind, port.HasValue) switch
        {
            (HostKind.Exact, true) => 6,
            (HostKind.Exact, false) => 5,
            (HostKind.Suffix, true) => 4,
            (HostKind.Suffix, false) => 3,
            (HostKind.Any, true) => 2,
            _ => 1,
        };
    }

    private enum HostKind
    {
        Any,
        Suffix,
        Exact,
    }

    /// <summary>
    /// Gets how specific the pattern is, in ASP.NET Core's order: a name with a port (6) beats a name (5), which beats
    /// a wildcard with a port (4), a wildcard (3), a port alone (2) and <c>*</c> (1).
    /// </summary>
    public int Specificity { get; }

    /// <summary>Gets the pattern in a canonical form (lower case, <c>*</c> for any port), to compare routes.</summary>
    public string Canonical => _kind switch
    {
        HostKind.Any => "*",
        HostKind.Suffix => "*" + _host,
        _ => _host,
    } + ":" + (_port?.ToString(CultureInfo.InvariantCulture) ?? "*");

    /// <summary>Parses a host pattern; <see langword="false"/> when it is not one.</summary>
    public static bool TryParse(string? value, [NotNullWhen(true)] out HostPattern? pattern)
    {
        pattern = null;
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        var span = value.AsSpan();
        ReadOnlySpan<char> host;
        ReadOnlySpan<char> rest;
        if (span[0] == '[')
        {
            // An IPv6 literal keeps its brackets, as the Host header (and so HttpRequest.Host) carries them.
            var close = span.IndexOf(']');
            if (close < 0 || !System.Net.IPAddress.TryParse(span[1..close], out var address)
                || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                return false;
            }

            host = span[..(close + 1)];
            rest = span[(close + 1)..];
        }
        else
        {
            var colon = span.IndexOf(':');
            host = colon < 0 ? span : span[..colon];
            rest = colon < 0 ? [] : span[colon..];
        }

        if (host.IsEmpty)
        {
            // ASP.NET Core reads ":8080" as "any host"; "*:8080" says so plainly.
            return false;
        }

        int? port = null;
        if (!rest.IsEmpty)
        {
            if (rest[0] != ':' || rest.Length == 1)
            {
                return false;
            }

            var portText = rest[1..];
            if (portText is not "*")
            {
                if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || parsed is < 1 or > 65535)
                {
                    return false;
                }

                port = parsed;
            }
        }

        if (host is "*")
        {
            pattern = new HostPattern(string.Empty, HostKind.Any, port);
            return true;
        }

        if (host.StartsWith("*."))
        {
            // Only the asterisk goes: the suffix keeps its dot, so *.example.com does not match badexample.com.
            if (!IsHostName(host[2..]))
            {
                return false;
            }

            pattern = new HostPattern(host[1..].ToString().ToLowerInvariant(), HostKind.Suffix, port);
            return true;
        }

        if (host[0] != '[' && !IsHostName(host))
        {
            return false;
        }

        pattern = new HostPattern(host.ToString().ToLowerInvariant(), HostKind.Exact, port);
        return true;
    }

    /// <summary>Tells whether a request for <paramref name="host"/> on <paramref name="port"/> matches.</summary>
    /// <param name="host">The request's host name, without the port (IPv6 literals in brackets).</param>
    /// <param name="port">The request's port: the one in <c>Host</c>, or the scheme's default.</param>
    public bool Matches(ReadOnlySpan<char> host, int? port)
    {
        if (_port is { } expected && expected != port)
        {
            return false;
        }

        return _kind switch
        {
            HostKind.Any => true,

            // No empty labels: *.example.com matches neither .example.com nor a..example.com.
            HostKind.Suffix => host.Length > _host.Length
                && host.EndsWith(_host, StringComparison.OrdinalIgnoreCase)
                && host[0] != '.'
                && host.IndexOf("..", StringComparison.Ordinal) < 0,
            _ => host.Equals(_host, StringComparison.OrdinalIgnoreCase),
        };
    }

    /// <inheritdoc/>
    public override string ToString() => Canonical;

    // Labels of letters, digits, '-' and '_' separated by single dots; IPv4 addresses pass as such labels.
    private static bool IsHostName(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty || name[0] == '.' || name[^1] == '.' || name.IndexOf("..", StringComparison.Ordinal) >= 0)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}
