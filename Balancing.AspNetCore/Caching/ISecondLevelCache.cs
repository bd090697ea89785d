namespace Balancing.AspNetCore.Caching;

/// <summary>
/// A store behind the in-memory response cache, shared with the balancer's other instances (Balancing.Redis): a response
/// one instance stored is found by another when its own memory misses.
/// </summary>
/// <remarks>
/// Entries travel with their <see cref="ResponseFreshness"/> (response time, corrected initial age, lifetime,
/// validators), so <c>Age</c> and staleness come out the same on every instance. Writes and removals must not hold the
/// request; a store that cannot be reached answers "not found".
/// </remarks>
internal interface ISecondLevelCache
{
    /// <summary>Finds the response stored under <paramref name="key"/>, or <see langword="null"/>.</summary>
    ValueTask<CachedResponse?> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>Stores <paramref name="entry"/> under its <see cref="CachedResponse.Key"/>, without waiting for the store.</summary>
    void Set(CachedResponse entry);

    /// <summary>Removes what is stored under <paramref name="key"/>, without waiting for the store.</summary>
    void Remove(string key);
}
