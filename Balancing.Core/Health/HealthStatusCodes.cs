using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Balancing.Health;

/// <summary>
/// The status codes an HTTP probe accepts, parsed from <see cref="ActiveHealthCheckOptions.ExpectedStatusCodes"/>:
/// codes and inclusive ranges separated by commas (<c>200-299,404</c>), each between 100 and 599.
/// </summary>
internal sealed class HealthStatusCodes
{
    private const int Min = 100;
    private const int Max = 599;

    private readonly bool[] _accepted;
    private readonly string _text;

    private HealthStatusCodes(bool[] accepted, string text)
    {
        _accepted = accepted;
        _text = text;
    }

    /// <summary>Gets the usual set, 200-299.</summary>
    public static HealthStatusCodes Success { get; } = Parse("200-299");

    public bool Contains(int statusCode) => statusCode is >= Min and <= Max && _accepted[statusCode - Min];

    public static HealthStatusCodes Parse(string text)
        => TryParse(text, out var codes) ? codes : throw new FormatException($"'{text}' is not a list of status codes and ranges.");

    public static bool TryParse(string? text, [NotNullWhen(true)] out HealthStatusCodes? codes)
    {
        codes = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var accepted = new bool[Max - Min + 1];
        foreach (var part in text.Split(','))
        {
            var item = part.Trim();
            var dash = item.IndexOf('-', StringComparison.Ordinal);
            int low, high;
            if (dash < 0)
            {
                if (!TryParseCode(item, out low))
                {
                    return false;
                }

                high = low;
            }
            else if (!TryParseCode(item[..dash].Trim(), out low) || !TryParseCode(item[(dash + 1)..].Trim(), out high) || low > high)
            {
                return false;
            }

            for (var code = low; code <= high; code++)
            {
                accepted[code - Min] = true;
            }
        }

        codes = new HealthStatusCodes(accepted, text.Trim());
        return true;
    }

    public override string ToString() => _text;

    private static bool TryParseCode(string text, out int code)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out code) && code is >= Min and <= Max;
}
