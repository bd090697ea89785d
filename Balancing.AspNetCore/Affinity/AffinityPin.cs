namespace Balancing.AspNetCore.Affinity;

/// <summary>What a request's affinity value said, once verified.</summary>
/// <param name="BackendId">The backend the request is pinned to, or <see langword="null"/> when it carried no valid pin.</param>
/// <param name="Renew">Whether the pin is valid but old enough for a sliding lifetime to renew it.</param>
internal readonly record struct AffinityPin(string? BackendId, bool Renew);
