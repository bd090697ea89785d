using System.Globalization;
using Balancing.AspNetCore.Forwarding;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Balancing.AspNetCore.Caching;

/// <summary>What a request asks of the cache (RFC 9111 §5.2.1).</summary>
/// <param name="Bypass">Leave the cache out entirely: <c>no-store</c>, a range or a precondition the cache does not evaluate.</param>
/// <param name="NoCache">Do not answer from a stored response without asking the backend (<c>no-cache</c>, <c>Pragma: no-cache</c>).</param>
/// <param name="MaxAge">The oldest stored response the client accepts (<c>max-age</c>).</param>
/// <param name="HasAuthorization">The request carries <c>Authorization</c> (§3.5).</param>
internal readonly record struct RequestDirectives(bool Bypass, bool NoCache, TimeSpan? MaxAge, bool HasAuthorization);

/// <summary>
/// The rules of RFC 9111 for a shared cache in front of backends: which requests may be answered from the cache, which
/// responses may be stored and for how long, and how a 304 refreshes a stored response. Pure functions of headers and
/// times, so the rules are tested without a server.
/// </summary>
internal static class CachePolicy
{
    /// <summary>Status codes a cache may store given explicit freshness (RFC 9110 §15.1, "heuristically cacheable", plus 203).</summary>
    public static bool IsCacheableStatus(int status) => status is 200 or 203 or 204 or 300 or 301 or 308 or 404 or 405 or 410 or 414 or 501;

    public static RequestDirectives ReadRequest(HttpRequest request)
    {
        var headers = request.Headers;
        var hasAuthorization = headers.ContainsKey(HeaderNames.Authorization);

        // The cache answers only plain and If-None-Match/If-Modified-Since requests; ranges and the other preconditions
        // need the origin's judgement, so they go through untouched.
        if (headers.ContainsKey(HeaderNames.Range) || headers.ContainsKey(HeaderNames.IfMatch)
            || headers.ContainsKey(HeaderNames.IfUnmodifiedSince) || headers.ContainsKey(HeaderNames.IfRange))
        {
            return new RequestDirectives(true, false, null, hasAuthorization);
        }

        var cacheControl = headers.CacheControl;
        if (cacheControl.Count == 0)
        {
            // Pragma: no-cache is the HTTP/1.0 spelling of Cache-Control: no-cache, and only counts without the latter (§5.4).
            var noCache = false;
            foreach (var pragma in headers.Pragma)
            {
                noCache |= pragma is not null && pragma.Contains("no-cache", StringComparison.OrdinalIgnoreCase);
            }

            return new RequestDirectives(false, noCache, null, hasAuthorization);
        }

        if (!CacheControlHeaderValue.TryParse(JoinList(cacheControl), out var directives) || directives is null)
        {
            return new RequestDirectives(false, false, null, hasAuthorization);
        }

        return new RequestDirectives(directives.NoStore, directives.NoCache, directives.MaxAge, hasAuthorization);
    }

    /// <summary>
    /// Judges a backend response for storage (RFC 9111 §3) and works out its freshness (§4.2). Returns
    /// <see langword="null"/> when it must not be stored, or is not worth storing (no explicit freshness and nothing to
    /// revalidate with: no heuristic freshness is applied).
    /// </summary>
    /// <param name="status">The response's status.</param>
    /// <param name="headers">Its end-to-end headers (<see cref="StorableHeaders"/>).</param>
    /// <param name="age">Its <c>Age</c> header.</param>
    /// <param name="requestTime">When the request was sent (<c>request_time</c>).</param>
    /// <param name="responseTime">When the response arrived (<c>response_time</c>).</param>
    /// <param name="hasAuthorization">Whether the request carried <c>Authorization</c>.</param>
    /// <param name="vary">The request headers the response varies on.</param>
    public static ResponseFreshness? Evaluate(int status, KeyValuePair<string, StringValues>[] headers, StringValues age, DateTimeOffset requestTime, DateTimeOffset responseTime, bool hasAuthorization, out string[] vary)
    {
        vary = [];
        if (!IsCacheableStatus(status))
        {
            return null;
        }

        StringValues cacheControlValues = default, expiresValues = default, dateValues = default, etag = default, lastModified = default;
        foreach (var (name, values) in headers)
        {
            if (name.Equals(HeaderNames.CacheControl, StringComparison.OrdinalIgnoreCase))
            {
                cacheControlValues = StringValues.Concat(cacheControlValues, values);
            }
            else if (name.Equals(HeaderNames.Expires, StringComparison.OrdinalIgnoreCase))
            {
                expiresValues = values;
            }
            else if (name.Equals(HeaderNames.Date, StringComparison.OrdinalIgnoreCase))
            {
                dateValues = values;
            }
            else if (name.Equals(HeaderNames.ETag, StringComparison.OrdinalIgnoreCase))
            {
                etag = values;
            }
            else if (name.Equals(HeaderNames.LastModified, StringComparison.OrdinalIgnoreCase))
            {
                lastModified = values;
            }
            else if (name.Equals(HeaderNames.SetCookie, StringComparison.OrdinalIgnoreCase))
            {
                // One client's cookie must never reach another.
                return null;
            }
            else if (name.Equals(HeaderNames.Vary, StringComparison.OrdinalIgnoreCase))
            {
                vary = [.. vary, .. SplitList(values)];
            }
        }

        // Vary: * says the response depends on more than the request's headers: no stored copy can ever match (§4.1).
        if (vary.Contains("*"))
        {
            return null;
        }

        CacheControlHeaderValue? cacheControl = null;
        if (cacheControlValues.Count > 0 && !CacheControlHeaderValue.TryParse(JoinList(cacheControlValues), out cacheControl))
        {
            // Directives the cache cannot read may forbid storing: do not guess.
            return null;
        }

        // A shared cache stores neither private nor no-store responses (§3, §5.2.2.3, §5.2.2.7).
        if (cacheControl is { NoStore: true } or { Private: true })
        {
            return null;
        }

        // §3.5: an answer to an authenticated request is shared only when the response says so explicitly.
        var sharedWithAuthorization = cacheControl is { Public: true } or { MustRevalidate: true } || cacheControl?.SharedMaxAge is not null;
        if (hasAuthorization && !sharedWithAuthorization)
        {
            return null;
        }

        DateTimeOffset? date = TryParseDate(dateValues, out var parsedDate) ? parsedDate : null;

        // §4.2.1: s-maxage, for a shared cache, before max-age, before Expires minus Date.
        var lifetime = cacheControl?.SharedMaxAge ?? cacheControl?.MaxAge;
        if (lifetime is null && expiresValues.Count > 0)
        {
            // An Expires that does not parse ("0", "-1") means already expired (§5.3).
            lifetime = TryParseDate(expiresValues, out var expires) ? expires - (date ?? responseTime) : TimeSpan.Zero;
        }

        var noCache = cacheControl?.NoCache ?? false;
        var etagValue = etag.Count > 0 ? etag[0] : null;
        var lastModifiedValue = lastModified.Count > 0 ? lastModified[0] : null;
        var hasValidators = etagValue is not null || lastModifiedValue is not null;
        if (lifetime is null && !(noCache && hasValidators))
        {
            // No explicit freshness: heuristic freshness (§4.2.2) is not applied, so there is nothing to serve it for.
            return null;
        }

        var freshFor = lifetime is { } l && l > TimeSpan.Zero ? l : TimeSpan.Zero;
        if (freshFor == TimeSpan.Zero && !hasValidators)
        {
            // Stale from the start and impossible to revalidate: storing it would only cost memory.
            return null;
        }

        // §4.2.3: the age the response already had when it arrived.
        var apparentAge = date is { } d && responseTime > d ? responseTime - d : TimeSpan.Zero;
        var ageValue = age.Count > 0 && long.TryParse(age[0], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? TimeSpan.FromSeconds(Math.Min(seconds, int.MaxValue))
            : TimeSpan.Zero;
        var responseDelay = responseTime > requestTime ? responseTime - requestTime : TimeSpan.Zero;
        var correctedInitialAge = apparentAge > ageValue + responseDelay ? apparentAge : ageValue + responseDelay;

        DateTimeOffset? lastModifiedDate = TryParseDate(lastModified, out var parsedLastModified) ? parsedLastModified : null;
        return new ResponseFreshness(responseTime, correctedInitialAge, freshFor, noCache, etagValue, lastModifiedValue, lastModifiedDate, sharedWithAuthorization)
        {
            StaleIfError = StaleIfErrorOf(cacheControl),
        };
    }

    /// <summary>The <c>stale-if-error</c> allowance of a response (RFC 5861), unless it requires revalidation (RFC 9111 §4.2.4).</summary>
    private static TimeSpan? StaleIfErrorOf(CacheControlHeaderValue? cacheControl)
    {
        if (cacheControl is null or { MustRevalidate: true } or { ProxyRevalidate: true } or { NoCache: true } || cacheControl.SharedMaxAge is not null)
        {
            return null;
        }

        foreach (var extension in cacheControl.Extensions)
        {
            if (extension.Name.Equals("stale-if-error", StringComparison.OrdinalIgnoreCase)
                && long.TryParse(extension.Value.AsSpan(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            {
                return TimeSpan.FromSeconds(Math.Min(seconds, int.MaxValue));
            }
        }

        return null;
    }

    /// <summary>
    /// The headers to store, from both header collections of a backend response: end-to-end only (no hop-by-hop, nothing
    /// named by <c>Connection</c>), and no <c>Age</c>, which is computed on each use.
    /// </summary>
    public static KeyValuePair<string, StringValues>[] StorableHeaders(HttpResponseMessage response, out StringValues age)
    {
        age = default;
        var stored = new List<KeyValuePair<string, StringValues>>();
        HashSet<string>? connectionTokens = null;
        if (response.Headers.NonValidated.TryGetValues(HeaderNames.Connection, out var connection))
        {
            connectionTokens = ProxyHeaders.ParseConnectionTokens(connection);
        }

        foreach (var source in (System.Net.Http.Headers.HttpHeaders[])[response.Headers, response.Content.Headers])
        {
            foreach (var header in source.NonValidated)
            {
                var name = header.Key;
                if (ProxyHeaders.IsHopByHop(name) || (connectionTokens is not null && connectionTokens.Contains(name)))
                {
                    continue;
                }

                var values = ToStringValues(header.Value);
                if (name.Equals(HeaderNames.Age, StringComparison.OrdinalIgnoreCase))
                {
                    age = values;
                    continue;
                }

                stored.Add(new(name, values));
            }
        }

        return [.. stored];
    }

    /// <summary>
    /// The stored headers updated by a 304 (RFC 9111 §3.2): every header the 304 carries replaces the stored one, except
    /// <c>Content-Length</c>, which describes the 304's own (empty) body.
    /// </summary>
    public static KeyValuePair<string, StringValues>[] Merge(KeyValuePair<string, StringValues>[] stored, KeyValuePair<string, StringValues>[] update)
    {
        var merged = new List<KeyValuePair<string, StringValues>>(stored.Length + update.Length);
        foreach (var header in stored)
        {
            if (!Contains(update, header.Key) || header.Key.Equals(HeaderNames.ContentLength, StringComparison.OrdinalIgnoreCase))
            {
                merged.Add(header);
            }
        }

        foreach (var header in update)
        {
            if (!header.Key.Equals(HeaderNames.ContentLength, StringComparison.OrdinalIgnoreCase))
            {
                merged.Add(header);
            }
        }

        return [.. merged];
    }

    /// <summary>Whether a backend status counts as an error that <c>stale-if-error</c> covers (RFC 5861 §4).</summary>
    public static bool IsErrorForStale(int status) => status is 500 or 502 or 503 or 504;

    /// <summary>
    /// Whether the client's own <c>If-None-Match</c> (or, without it, <c>If-Modified-Since</c>) matches the stored response,
    /// so that 304 is the answer (RFC 9110 §13.1.2, §13.1.3; weak comparison for If-None-Match).
    /// </summary>
    public static bool IsNotModified(HttpRequest request, CachedResponse entry)
    {
        if (entry.StatusCode != StatusCodes.Status200OK)
        {
            return false;
        }

        var headers = request.Headers;
        var ifNoneMatch = headers.IfNoneMatch;
        if (ifNoneMatch.Count > 0)
        {
            if (entry.Freshness.ETag is not { } stored || !EntityTagHeaderValue.TryParse(stored, out var storedTag))
            {
                return false;
            }

            if (!EntityTagHeaderValue.TryParseList(ifNoneMatch, out var tags))
            {
                return false;
            }

            foreach (var tag in tags)
            {
                if (tag.Equals(EntityTagHeaderValue.Any) || tag.Compare(storedTag, useStrongComparison: false))
                {
                    return true;
                }
            }

            return false;
        }

        return entry.Freshness.LastModifiedDate is { } lastModified
            && TryParseDate(headers.IfModifiedSince, out var since)
            && lastModified <= since;
    }

    /// <summary>The part of the key that tells variants apart: the request's values of the headers named by <c>Vary</c>.</summary>
    public static string VariantKey(string baseKey, string[] vary, IHeaderDictionary requestHeaders)
    {
        var key = new System.Text.StringBuilder(baseKey);
        foreach (var name in vary)
        {
            key.Append('\n').Append(name.ToLowerInvariant()).Append(':');
            var values = requestHeaders[name];
            for (var i = 0; i < values.Count; i++)
            {
                // Whitespace around commas carries no meaning (RFC 9110 §5.3); anything else is compared as it was sent.
                key.Append(i == 0 ? string.Empty : ",").Append(values[i]?.Trim());
            }
        }

        return key.ToString();
    }

    private static bool Contains(KeyValuePair<string, StringValues>[] headers, string name)
    {
        foreach (var header in headers)
        {
            if (header.Key.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static bool TryParseDate(StringValues values, out DateTimeOffset date)
    {
        date = default;
        return values.Count > 0 && values[0] is { } text && HeaderUtilities.TryParseDate(text, out date);
    }

    private static string JoinList(StringValues values) => values.Count == 1 ? values[0] ?? string.Empty : string.Join(',', values.ToArray());

    private static IEnumerable<string> SplitList(StringValues values)
    {
        foreach (var value in values)
        {
            if (value is null)
            {
                continue;
            }

            foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                yield return part;
            }
        }
    }

    private static StringValues ToStringValues(System.Net.Http.Headers.HeaderStringValues values)
    {
        if (values.Count == 1)
        {
            foreach (var value in values)
            {
                return value;
            }
        }

        return values.ToArray();
    }
}
