using OpenTelemetry.Metrics;
using Yarp.ReverseProxy.Configuration;

// Usage: Balancing.Bench.YarpHost --urls http://127.0.0.1:8081 --Backends http://127.0.0.1:9101,http://127.0.0.1:9102
//        [--Metrics true]: a Prometheus endpoint at /metrics by the same OpenTelemetry exporter and meters as Balancing's
//        MapLoadBalancerMetrics() (YARP's own meter included), for a baseline that pays for metrics too.
var builder = WebApplication.CreateBuilder(args);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);

var backends = (builder.Configuration["Backends"] ?? "http://127.0.0.1:9101")
    .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
var destinations = backends
    .Select((address, i) => (Name: $"b{i + 1}", Config: new DestinationConfig { Address = address }))
    .ToDictionary(d => d.Name, d => d.Config);

builder.Services.AddReverseProxy().LoadFromMemory(
    [new RouteConfig { RouteId = "all", ClusterId = "default", Match = new RouteMatch { Path = "{**catch-all}" } }],
    [new ClusterConfig { ClusterId = "default", LoadBalancingPolicy = "RoundRobin", Destinations = destinations }]);

var metrics = builder.Configuration.GetValue<bool>("Metrics");
if (metrics)
{
    builder.Services.AddOpenTelemetry().WithMetrics(m => m
        .AddMeter("Yarp.ReverseProxy", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Routing",
            "Microsoft.AspNetCore.Diagnostics", "System.Net.Http", "System.Net.NameResolution", "System.Runtime")
        .AddPrometheusExporter());
}

var app = builder.Build();
if (metrics)
{
    app.MapPrometheusScrapingEndpoint();
}

app.MapReverseProxy();
app.Run();
