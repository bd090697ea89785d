namespace Balancing.Configuration;

/// <summary>The rules for the <c>Caching</c> section; errors are prefixed with the full key.</summary>
internal static class CachingOptionsValidator
{
    /// <summary>The smallest cache worth having: a few small responses.</summary>
    public const long MinSizeLimit = 64 * 1024;

    /// <param name="caching">The options.</param>
    /// <param name="path">The section's key, <c>LoadBalancer:Caching</c>.</param>
    /// <param name="errors">Receives one message per problem.</param>
    public static void Validate(CachingOptions caching, string path, List<string> errors)
    {
        if (caching.SizeLimit < MinSizeLimit)
        {
            errors.Add($"{path}:SizeLimit: must be at least {MinSizeLimit} bytes, not {caching.SizeLimit}.");
        }

        if (caching.MaxEntrySize < 0)
        {
            errors.Add($"{path}:MaxEntrySize: must be 0 or more bytes, not {caching.MaxEntrySize}.");
        }
    }
}
