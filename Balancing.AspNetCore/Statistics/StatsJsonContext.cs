using System.Text.Json;
using System.Text.Json.Serialization;

namespace Balancing.AspNetCore.Statistics;

/// <summary>
/// The JSON of <c>MapLoadBalancerStats()</c>: camelCase names, enums by name, durations as seconds (a number), times as
/// ISO 8601. Source-generated, so serializing needs no reflection.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    Converters = [typeof(SecondsJsonConverter)])]
[JsonSerializable(typeof(LoadBalancerStatistics))]
internal sealed partial class StatsJsonContext : JsonSerializerContext;

/// <summary>Writes a <see cref="TimeSpan"/> as its length in seconds, which every JSON reader and chart takes as it is.</summary>
internal sealed class SecondsJsonConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => TimeSpan.FromSeconds(reader.GetDouble());

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options)
        => writer.WriteNumberValue(value.TotalSeconds);
}
