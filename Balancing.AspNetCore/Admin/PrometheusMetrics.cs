using System.Diagnostics.Metrics;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Balancing.AspNetCore.Admin;

/// <summary>
/// The Prometheus view of the app's meters, kept by an OpenTelemetry meter provider of its own with the Prometheus
/// exporter: Balancing's meter, the ASP.NET Core and <c>HttpClient</c> meters this app's <see cref="IMeterFactory"/>
/// created, and the runtime's process-wide meter. Names follow the OpenTelemetry-to-Prometheus conventions
/// (<c>http_server_request_duration_seconds</c>), so existing ASP.NET Core dashboards work. Meters of other containers in
/// the same process (another host, a test) stay out: an instrument whose meter belongs to another factory is dropped.
/// </summary>
internal sealed class PrometheusMetrics : IDisposable
{
    /// <summary>The meters always on a scrape.</summary>
    internal static readonly string[] OwnMeterNames = ["Balancing", "System.Runtime"];

    /// <summary>The platform meters on a scrape unless <see cref="MonitoringOptions.PlatformMetrics"/> is off.</summary>
    internal static readonly string[] PlatformMeterNames =
    [
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Http.Connections",
        "Microsoft.AspNetCore.Routing",
        "Microsoft.AspNetCore.Diagnostics",
        "Microsoft.AspNetCore.RateLimiting",
        "System.Net.Http",
        "System.Net.NameResolution",
    ];

    /// <summary>
    /// Runtime gauges whose Prometheus names end in <c>_count</c>, which the Prometheus naming rules (and
    /// <c>promtool check metrics</c>) keep for histograms and summaries: left out so that a scrape is clean.
    /// </summary>
    private static readonly HashSet<string> LeftOut = new(StringComparer.Ordinal)
    {
        "dotnet.assembly.count",
        "dotnet.process.cpu.count",
        "dotnet.thread_pool.thread.count",
        "dotnet.thread_pool.work_item.count",
        "dotnet.timer.count",
    };

    public PrometheusMetrics(IMeterFactory meterFactory, Balancing.Pools.ServerPoolRegistry registry)
    {
        Provider = Sdk.CreateMeterProviderBuilder()
            .AddMeter(OwnMeterNames)
            .AddMeter(registry.Options.Monitoring.PlatformMetrics ? PlatformMeterNames : [])
            .AddView(instrument => Keep(instrument, meterFactory) ? null : MetricStreamConfiguration.Drop)
            .AddPrometheusExporter(options => options.ScrapeResponseCacheDurationMilliseconds = 0)
            .Build();
    }

    /// <summary>Gets the meter provider whose exporter the scrape endpoint reads.</summary>
    public MeterProvider Provider { get; }

    public void Dispose() => Provider.Dispose();

    private static bool Keep(Instrument instrument, IMeterFactory meterFactory)
        => (instrument.Meter.Scope is null || ReferenceEquals(instrument.Meter.Scope, meterFactory))
            && !LeftOut.Contains(instrument.Name);
}
