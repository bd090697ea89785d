namespace Balancing.Configuration;

/// <summary>
/// Checks <c>LoadBalancer:RateLimiting</c> and every route's <c>RateLimiting</c> override, with the full key in each
/// message (<c>LoadBalancer:Routes:api:RateLimiting:PermitLimit</c>). Settings are checked even while rate limiting is
/// off, so a mistake shows before someone turns it on.
/// </summary>
internal static class RateLimitingOptionsValidator
{
    /// <summary>The longest window or replenishment period: a day. Longer would mean a client locked out for days.</summary>
    public static readonly TimeSpan MaxWindow = TimeSpan.FromDays(1);

    /// <summary>The shortest window segment the heartbeat can keep up with.</summary>
    public static readonly TimeSpan MinSegment = TimeSpan.FromMilliseconds(10);

    public static void Validate(LoadBalancerOptions options, string sectionPath, List<string> errors)
    {
        var global = options.RateLimiting;
        var path = $"{sectionPath}:RateLimiting";
        ValidateAlgorithm(global.Algorithm, $"{path}:Algorithm", errors);
        ValidateLimits(global.PermitLimit, global.Window, global.TokensPerPeriod, global.SegmentsPerWindow, global.QueueLimit, path, errors);

        for (var i = 0; i < global.ExemptNetworks.Count; i++)
        {
            var entry = global.ExemptNetworks[i];
            if (!LoadBalancerOptionsValidator.TryParseNetwork(entry, out _))
            {
                errors.Add($"{path}:ExemptNetworks:{i}: '{entry}' is neither an IP address nor a CIDR network such as 10.0.0.0/8.");
            }
        }

        if (global.IPv6PrefixLength is < 1 or > 128)
        {
            errors.Add($"{path}:IPv6PrefixLength: must be from 1 to 128 (64 groups a host's /64, 128 limits each address), not {global.IPv6PrefixLength}.");
        }

        foreach (var (name, route) in options.Routes)
        {
            if (route?.RateLimiting is { } own)
            {
                ValidateRoute(global, own, $"{sectionPath}:Routes:{name}:RateLimiting", errors);
            }
        }
    }

    private static void ValidateRoute(RateLimitingOptions global, RouteRateLimitingOptions route, string path, List<string> errors)
    {
        if (route.Algorithm is { } algorithm)
        {
            ValidateAlgorithm(algorithm, $"{path}:Algorithm", errors);
        }

        // Each overridden value is checked where it was written; the segment length depends on two values that may come
        // from different places, so it is checked on the combination and reported at the route's key.
        var windowValid = ValidateLimits(route.PermitLimit, route.Window, route.TokensPerPeriod, route.SegmentsPerWindow, route.QueueLimit, path, errors, checkSegment: false);
        if (windowValid && (route.Window is not null || route.SegmentsPerWindow is not null))
        {
            ValidateSegment(route.Window ?? global.Window, route.SegmentsPerWindow ?? global.SegmentsPerWindow, path, errors);
        }
    }

    private static void ValidateAlgorithm(RateLimitAlgorithm algorithm, string key, List<string> errors)
    {
        if (!Enum.IsDefined(algorithm))
        {
            errors.Add($"{key}: '{algorithm}' is not one of {string.Join(", ", Enum.GetNames<RateLimitAlgorithm>())}.");
        }
    }

    /// <returns>Whether the window and the segment count (where given) are valid, so their combination can be checked.</returns>
    private static bool ValidateLimits(int? permitLimit, TimeSpan? window, int? tokensPerPeriod, int? segments, int? queueLimit, string path, List<string> errors, bool checkSegment = true)
    {
        if (permitLimit is < 1)
        {
            errors.Add($"{path}:PermitLimit: must be at least 1, not {permitLimit}.");
        }

        var windowValid = true;
        if (window is { } length && (length < MinSegment || length > MaxWindow))
        {
            errors.Add($"{path}:Window: must be from {MinSegment} to {MaxWindow}, not {length}.");
            windowValid = false;
        }

        if (tokensPerPeriod is < 1)
        {
            errors.Add($"{path}:TokensPerPeriod: must be at least 1, not {tokensPerPeriod}.");
        }

        var segmentsValid = true;
        if (segments is < 1 or > 1000)
        {
            errors.Add($"{path}:SegmentsPerWindow: must be from 1 to 1000, not {segments}.");
            segmentsValid = false;
        }

        if (queueLimit is < 0)
        {
            errors.Add($"{path}:QueueLimit: must be 0 (refuse at once) or more, not {queueLimit}.");
        }

        if (checkSegment && windowValid && segmentsValid && window is { } w && segments is { } s)
        {
            ValidateSegment(w, s, path, errors);
        }

        return windowValid && segmentsValid;
    }

    private static void ValidateSegment(TimeSpan window, int segments, string path, List<string> errors)
    {
        if (segments >= 1 && window / segments < MinSegment)
        {
            errors.Add($"{path}:SegmentsPerWindow: a window of {window} in {segments} segments makes segments shorter than {MinSegment}; use fewer segments or a longer Window.");
        }
    }
}
