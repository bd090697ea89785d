using System.Collections;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Balancing.Configuration;

/// <summary>
/// Finds keys in a configuration section that no option property binds to. The configuration binder
/// ignores them silently; a load balancer should not, because a typo such as <c>Adress</c> would
/// otherwise leave a backend without an address or a setting at its default without anyone noticing.
/// </summary>
internal static class ConfigurationKeyValidator
{
    /// <summary>Reports unknown keys, values that do not convert and values where a section belongs.</summary>
    /// <param name="section">The section bound to <paramref name="type"/>.</param>
    /// <param name="type">The options type.</param>
    /// <param name="path">The section's path, for messages.</param>
    /// <param name="errors">Receives one message per problem, prefixed with the full key.</param>
    /// <param name="badValues">Receives the full keys of values the binder would reject or drop.</param>
    public static void FindUnknownKeys(IConfiguration section, Type type, string path, List<string> errors, ISet<string>? badValues = null)
    {
        foreach (var child in section.GetChildren())
        {
            var childPath = $"{path}:{child.Key}";
            var property = FindProperty(type, child.Key);
            if (property is null)
            {
                var known = string.Join(", ", BindableProperties(type).Select(p => p.Name));
                errors.Add($"{childPath}: unknown key; the keys allowed here are {known}.");
                continue;
            }

            CheckValue(child, property.PropertyType, childPath, errors, badValues);
        }
    }

    private static void CheckValue(IConfigurationSection section, Type type, string path, List<string> errors, ISet<string>? badValues)
    {
        if (IsLeaf(type))
        {
            if (section.GetChildren().Any())
            {
                errors.Add($"{path}: expected a single value, found a section.");
            }
            else if (section.Value is { Length: > 0 } value && !CanConvert(value, type))
            {
                errors.Add($"{path}: '{value}' is not a valid {Describe(type)}.");
                badValues?.Add(path);
            }

            return;
        }

        // A plain value where a list or section belongs (Forwarding:TrustedProxies=10.0.0.1 from an environment
        // variable) is ignored by the binder. An empty value is fine: that is how JSON writes [] and {}.
        if (!string.IsNullOrEmpty(section.Value))
        {
            errors.Add($"{path}: expected a section (or a list, written {path}:0, {path}:1, ...), found the single value '{section.Value}'.");
            badValues?.Add(path);
            return;
        }

        var dictionaryValue = GetDictionaryValueType(type);
        if (dictionaryValue is not null)
        {
            foreach (var entry in section.GetChildren())
            {
                CheckValue(entry, dictionaryValue, $"{path}:{entry.Key}", errors, badValues);
            }

            return;
        }

        var listItem = GetListItemType(type);
        if (listItem is not null)
        {
            foreach (var entry in section.GetChildren())
            {
                CheckValue(entry, listItem, $"{path}:{entry.Key}", errors, badValues);
            }

            return;
        }

        FindUnknownKeys(section, type, path, errors, badValues);
    }

    /// <summary>
    /// The binder drops a dictionary entry whose value fails to convert (a whole pool can vanish), so every value
    /// is converted here first, to report the key instead of a confusing consequence.
    /// </summary>
    private static bool CanConvert(string value, Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string))
        {
            return true;
        }

        try
        {
            return System.ComponentModel.TypeDescriptor.GetConverter(type).ConvertFromInvariantString(value) is not null;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or NotSupportedException or OverflowException || ex.InnerException is FormatException or OverflowException)
        {
            return false;
        }
    }

    private static string Describe(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsEnum)
        {
            return $"value; expected one of {string.Join(", ", Enum.GetNames(type))}";
        }

        return type == typeof(TimeSpan) ? "duration; expected for example 00:00:05" : type.Name switch
        {
            nameof(Int32) or nameof(Int64) => "whole number",
            nameof(Boolean) => "boolean; expected true or false",
            _ => type.Name,
        };
    }

    private static bool IsLeaf(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(TimeSpan)
            || type == typeof(decimal) || type == typeof(Uri) || type == typeof(DateTimeOffset) || type == typeof(DateTime);
    }

    private static Type? GetDictionaryValueType(Type type)
    {
        var dictionary = type.GetInterfaces().Append(type)
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>));
        return dictionary?.GetGenericArguments()[1];
    }

    private static Type? GetListItemType(Type type)
    {
        if (type == typeof(string) || !typeof(IEnumerable).IsAssignableFrom(type))
        {
            return null;
        }

        var enumerable = type.GetInterfaces().Append(type)
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        return enumerable?.GetGenericArguments()[0];
    }

    private static PropertyInfo? FindProperty(Type type, string key)
        => BindableProperties(type).FirstOrDefault(p => string.Equals(p.Name, key, StringComparison.OrdinalIgnoreCase));

    private static IEnumerable<PropertyInfo> BindableProperties(Type type)
        => type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0);
}
