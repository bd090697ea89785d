using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Balancing.Health;

/// <summary>
/// A set of status codes written as codes and inclusive ranges separated by commas (<c>200-299,404</c>), each between
/// 100 and 599: what an HTTP probe accepts, what a retry repeats on, what passive health counts as a failure.
/// A lookup is one array read.
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

    public static HealthStatusCodes Parse(string text, bool allowEmpty = false)
        => TryParse(text, out var codes, allowEmpty) ? codes : throw new FormatException($"'{text}' is not a list of status codes and ranges.");

    /// <summary>Parses a set; with <paramref name="allowEmpty"/>, an empty text is the empty set.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out HealthStatusCodes? codes, bool allowEmpty = false)
    {
        codes = null;
        var accepted = new bool[Max - Min + 1];
        if (string.IsNullOrWhiteSpace(text))
        {
            if (allowEmpty)
            {
                codes = new HealthStatusCodes(accepted, string.Empty);
            }

            return allowEmpty;
        }

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
