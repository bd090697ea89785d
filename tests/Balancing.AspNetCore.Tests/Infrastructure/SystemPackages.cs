namespace Balancing.AspNetCore.Tests.Infrastructure;

/// <summary>
/// Programs from Debian packages that some tests drive for real. On a developer machine without the package such a
/// test is Inconclusive, naming the package; in CI (<c>BALANCING_REQUIRE_SYSTEM_PACKAGES=1</c>, set by <c>.ci/run</c>,
/// which installs them) a missing one fails the test, so nothing is skipped silently.
/// </summary>
internal static class SystemPackages
{
    /// <summary>Finds <paramref name="program"/> on the PATH, or ends the test naming the Debian <paramref name="package"/>.</summary>
    public static string Require(string program, string package)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(directory, program);
            if (directory.Length > 0 && File.Exists(candidate))
            {
                return candidate;
            }
        }

        var message = $"'{program}' was not found: install the Debian package '{package}' (apt-get install {package}).";
        if (Environment.GetEnvironmentVariable("BALANCING_REQUIRE_SYSTEM_PACKAGES") == "1")
        {
            Assert.Fail(message);
        }

        Assert.Inconclusive(message);
        return string.Empty;
    }
}
