namespace Balancing.Strategies;

/// <summary>Compares backends' loads (requests in flight per unit of weight) exactly, without division or floating point.</summary>
internal static class Load
{
    /// <summary>
    /// Whether <paramref name="inFlightA"/> / <paramref name="weightA"/> is less than <paramref name="inFlightB"/> /
    /// <paramref name="weightB"/>, by cross-multiplication in 128 bits (a weight of 0 counts as an infinite load).
    /// </summary>
    public static bool IsLess(int inFlightA, long weightA, int inFlightB, long weightB)
        => Compare(inFlightA, weightA, inFlightB, weightB) < 0;

    /// <summary>Compares <paramref name="inFlightA"/> / <paramref name="weightA"/> with <paramref name="inFlightB"/> / <paramref name="weightB"/>.</summary>
    public static int Compare(int inFlightA, long weightA, int inFlightB, long weightB)
    {
        if (weightA <= 0 || weightB <= 0)
        {
            // Weight 0 takes no traffic by choice: it loses to any weighted backend, and two of them tie.
            return (weightA <= 0).CompareTo(weightB <= 0);
        }

        var left = Math.BigMul((ulong)Math.Max(0, inFlightA), (ulong)weightB, out var leftLow);
        var right = Math.BigMul((ulong)Math.Max(0, inFlightB), (ulong)weightA, out var rightLow);
        return left != right ? left.CompareTo(right) : leftLow.CompareTo(rightLow);
    }
}
