namespace Balancing.AspNetCore.Caching;

/// <summary>How long a stored response stays fresh and how old it is, per RFC 9111 §4.2.</summary>
/// <param name="ResponseTime">When the response was received (<c>response_time</c>).</param>
/// <param name="CorrectedInitialAge">The response's age when it was received (<c>corrected_initial_age</c>, §4.2.3).</param>
/// <param name="Lifetime">How long it is fresh after it was generated (<c>freshness_lifetime</c>, §4.2.1).</param>
/// <param name="NoCache">Whether it must be revalidated before every use (<c>no-cache</c>, §5.2.2.4).</param>
/// <param name="ETag">Its entity tag, if any.</param>
/// <param name="LastModified">Its <c>Last-Modified</c> as sent, if any.</param>
/// <param name="LastModifiedDate">Its <c>Last-Modified</c> parsed, if it parses.</param>
/// <param name="SharedWithAuthorization">Whether it may be stored for (and so shared from) a request with <c>Authorization</c> (§3.5).</param>
internal sealed record ResponseFreshness(
    DateTimeOffset ResponseTime,
    TimeSpan CorrectedInitialAge,
    TimeSpan Lifetime,
    bool NoCache,
    string? ETag,
    string? LastModified,
    DateTimeOffset? LastModifiedDate,
    bool SharedWithAuthorization)
{
    /// <summary>The current age: the age when received plus the time since (§4.2.3).</summary>
    public TimeSpan CurrentAge(DateTimeOffset now)
    {
        var resident = now - ResponseTime;
        return CorrectedInitialAge + (resident > TimeSpan.Zero ? resident : TimeSpan.Zero);
    }

    /// <summary>Whether the response may be served without asking the backend (§4.2), within the request's <c>max-age</c> if any.</summary>
    public bool IsFresh(DateTimeOffset now, TimeSpan? requestMaxAge)
    {
        if (NoCache)
        {
            return false;
        }

        var age = CurrentAge(now);
        return age < Lifetime && (requestMaxAge is not { } maxAge || age <= maxAge);
    }

    /// <summary>Whether the backend can confirm the response with a conditional request (§4.3.1).</summary>
    public bool HasValidators => ETag is not null || LastModified is not null;

    /// <summary>
    /// Gets how long after going stale the response may stand in for a failed refresh (RFC 5861 <c>stale-if-error</c>), or
    /// <see langword="null"/> when it may not: no such directive, or one that requires revalidation (<c>must-revalidate</c>,
    /// <c>proxy-revalidate</c>, <c>s-maxage</c>, <c>no-cache</c>: RFC 9111 §4.2.4).
    /// </summary>
    public TimeSpan? StaleIfError { get; init; }

    /// <summary>Whether, at <paramref name="now"/>, the response may stand in for a refresh that failed (<see cref="StaleIfError"/>).</summary>
    public bool MayStandInForError(DateTimeOffset now) => StaleIfError is { } allowance && CurrentAge(now) - Lifetime <= allowance;
}
