using System.Globalization;

namespace Balancing.Health;

/// <summary>
/// Checks a pool's <see cref="HealthCheckOptions"/>. Called by the whole-configuration validator for every pool, so its
/// messages carry the full key (<c>LoadBalancer:Pools:default:HealthCheck:Active:Interval</c>) like every other error.
/// The settings are checked even when checks are off, so a mistake shows before someone turns them on.
/// </summary>
internal static class HealthCheckOptionsValidator
{
    // Timers take at most uint.MaxValue - 1 milliseconds; the rest of the configuration uses the same bound.
    private static readonly TimeSpan MaxDuration = TimeSpan.FromMilliseconds(int.MaxValue);

    /// <param name="options">The pool's health-check settings.</param>
    /// <param name="path">The key of the settings, for example <c>LoadBalancer:Pools:default:HealthCheck</c>.</param>
    /// <param name="probeNames">The probe names that may be chosen.</param>
    /// <param name="errors">Receives one message per problem.</param>
    public static void Validate(HealthCheckOptions options, string path, IEnumerable<string> probeNames, List<string> errors)
    {
        var active = options.Active;
        var key = $"{path}:Active";

        var known = probeNames.ToList();
        if (string.IsNullOrWhiteSpace(active.Probe) || !known.Contains(active.Probe, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"{key}:Probe: unknown health probe '{active.Probe}'; known probes are {string.Join(", ", known)}.");
        }

        if (string.IsNullOrEmpty(active.Path) || !active.Path.StartsWith('/'))
        {
            errors.Add($"{key}:Path: must start with '/', for example /health, not '{active.Path}'.");
        }
        else if (!Uri.TryCreate("http://backend.test" + active.Path, UriKind.Absolute, out var uri) || uri.Fragment.Length > 0
            || active.Path.Any(char.IsWhiteSpace))
        {
            errors.Add($"{key}:Path: '{active.Path}' is not a valid path and query (no spaces, no fragment).");
        }

        var intervalValid = RequireDuration(active.Interval, $"{key}:Interval", errors);
        var timeoutValid = RequireDuration(active.Timeout, $"{key}:Timeout", errors);
        if (intervalValid && timeoutValid && active.Timeout > active.Interval)
        {
            errors.Add($"{key}:Timeout: must be at most the Interval ({active.Interval}), not {active.Timeout}: a probe may not outlast its round.");
        }

        if (active.HealthyThreshold < 1)
        {
            errors.Add($"{key}:HealthyThreshold: must be at least 1, not {active.HealthyThreshold.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (active.UnhealthyThreshold < 1)
        {
            errors.Add($"{key}:UnhealthyThreshold: must be at least 1, not {active.UnhealthyThreshold.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (!HealthStatusCodes.TryParse(active.ExpectedStatusCodes, out _))
        {
            errors.Add($"{key}:ExpectedStatusCodes: '{active.ExpectedStatusCodes}' is not a list of status codes and ranges between 100 and 599, such as 200-299,404.");
        }

        if (double.IsNaN(active.Jitter) || active.Jitter < 0 || active.Jitter > 0.5)
        {
            errors.Add($"{key}:Jitter: must be between 0 and 0.5 (a fraction of the Interval), not {active.Jitter.ToString(CultureInfo.InvariantCulture)}.");
        }
    }

    private static bool RequireDuration(TimeSpan value, string key, List<string> errors)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"{key}: must be a positive duration such as 00:00:02, not {value}.");
            return false;
        }

        if (value > MaxDuration)
        {
            errors.Add($"{key}: must be at most {MaxDuration}, not {value}.");
            return false;
        }

        return true;
    }
}
