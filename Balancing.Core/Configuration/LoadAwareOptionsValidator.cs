namespace Balancing.Configuration;

/// <summary>The rules for a pool's <c>PeakEwma</c> and <c>ConsistentHash</c> sections; errors are prefixed with the full key.</summary>
internal static class LoadAwareOptionsValidator
{
    public const int MinTableSize = 101;
    public const int MaxTableSize = 1_000_003;

    private static readonly TimeSpan MaxDuration = TimeSpan.FromDays(1);

    /// <param name="pool">The pool's options.</param>
    /// <param name="path">The pool's key, <c>LoadBalancer:Pools:&lt;name&gt;</c>.</param>
    /// <param name="errors">Receives one message per problem.</param>
    public static void Validate(PoolOptions pool, string path, List<string> errors)
    {
        var ewma = pool.PeakEwma;
        RequireDuration(ewma.DecayTime, $"{path}:PeakEwma:DecayTime", errors);
        RequireDuration(ewma.DefaultLatency, $"{path}:PeakEwma:DefaultLatency", errors);

        var hash = pool.ConsistentHash;
        var hashPath = $"{path}:ConsistentHash";
        if (!Enum.IsDefined(hash.Key))
        {
            errors.Add($"{hashPath}:Key: '{hash.Key}' is not one of {string.Join(", ", Enum.GetNames<ConsistentHashKey>())}.");
        }
        else if (hash.Key is ConsistentHashKey.Header or ConsistentHashKey.Cookie)
        {
            if (string.IsNullOrWhiteSpace(hash.KeyName))
            {
                errors.Add($"{hashPath}:KeyName: is required when Key is {hash.Key} (the name of the {(hash.Key == ConsistentHashKey.Header ? "header" : "cookie")} to hash).");
            }
            else if (!IsToken(hash.KeyName))
            {
                errors.Add($"{hashPath}:KeyName: '{hash.KeyName}' is not a valid {(hash.Key == ConsistentHashKey.Header ? "header" : "cookie")} name (letters, digits and !#$%&'*+-.^_`|~ only).");
            }
        }
        else if (!string.IsNullOrEmpty(hash.KeyName))
        {
            // Most likely Key was forgotten: a KeyName alone would silently hash the client address instead.
            errors.Add($"{hashPath}:KeyName: is used only when Key is Header or Cookie, and Key is {hash.Key}; set Key or remove KeyName.");
        }

        if (!double.IsFinite(hash.BoundedLoad) || hash.BoundedLoad is < 0 or > 100)
        {
            errors.Add($"{hashPath}:BoundedLoad: must be from 0 (no bound) to 100, not {hash.BoundedLoad}.");
        }

        if (hash.TableSize is < MinTableSize or > MaxTableSize || !IsPrime(hash.TableSize))
        {
            errors.Add($"{hashPath}:TableSize: must be a prime number from {MinTableSize} to {MaxTableSize}, such as {ConsistentHashOptions.DefaultTableSize}, not {hash.TableSize}.");
        }
    }

    public static bool IsPrime(long value)
    {
        if (value < 2)
        {
            return false;
        }

        if (value % 2 == 0)
        {
            return value == 2;
        }

        for (long divisor = 3; divisor * divisor <= value; divisor += 2)
        {
            if (value % divisor == 0)
            {
                return false;
            }
        }

        return true;
    }

    private static void RequireDuration(TimeSpan value, string key, List<string> errors)
    {
        if (value <= TimeSpan.Zero || value > MaxDuration)
        {
            errors.Add($"{key}: must be a positive duration of at most 1.00:00:00, such as 00:00:10, not {value}.");
        }
    }

    // RFC 9110 token characters: what a header field name may contain; cookie names (RFC 6265) are tokens too.
    private static bool IsToken(string value)
    {
        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal)))
            {
                return false;
            }
        }

        return true;
    }
}
