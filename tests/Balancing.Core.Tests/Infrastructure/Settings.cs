namespace Balancing.Core.Tests.Infrastructure;

/// <summary>Builds flat configuration dictionaries under <c>LoadBalancer:</c>.</summary>
internal static class Settings
{
    public const string Section = "LoadBalancer";

    public static string BackendKey(string pool, string backend, string property = "Address")
        => $"{Section}:Pools:{pool}:Backends:{backend}:{property}";

    /// <summary>One pool <paramref name="pool"/> whose backends are <c>name=address</c> pairs.</summary>
    public static Dictionary<string, string?> Pool(string pool, params (string Name, string Address)[] backends)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, address) in backends)
        {
            settings[BackendKey(pool, name)] = address;
        }

        return settings;
    }

    /// <summary>The usual three-backend pool <c>default</c>.</summary>
    public static Dictionary<string, string?> DefaultPool()
        => Pool("default", ("b1", "http://b1.test:8080"), ("b2", "http://b2.test:8080"), ("b3", "http://b3.test:8080"));

    public static Dictionary<string, string?> With(this Dictionary<string, string?> settings, string key, string? value)
    {
        var copy = new Dictionary<string, string?>(settings, StringComparer.OrdinalIgnoreCase)
        {
            [key] = value,
        };
        return copy;
    }

    public static Dictionary<string, string?> Without(this Dictionary<string, string?> settings, string keyPrefix)
        => settings.Where(kv => !kv.Key.StartsWith(keyPrefix, StringComparison.OrdinalIgnoreCase))
            .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.OrdinalIgnoreCase);
}
