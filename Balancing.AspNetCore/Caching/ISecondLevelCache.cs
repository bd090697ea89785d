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

    /// <summary>
    /// Removes every shared response, or those whose request target starts with <paramref name="pathPrefix"/>, and tells
    /// the other instances to drop theirs from memory (they raise <see cref="Purged"/>).
    /// </summary>
    /// <returns>How many shared entries were removed, or <see langword="null"/> when the store cannot be reached: then
    /// the other instances were not told, and keep their copies until these expire.</returns>
    Task<long?> PurgeAsync(string? pathPrefix, CancellationToken cancellationToken);

    /// <summary>Raised when another instance purged, with its prefix (<see langword="null"/>: everything).</summary>
    event Action<string?>? Purged;
}
