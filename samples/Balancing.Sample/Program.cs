using Balancing.Sample;

var builder = WebApplication.CreateBuilder(args);

builder.WebHost.ConfigureKestrel(kestrel =>
{
    // The balancer speaks for the backends; it does not need to advertise itself.
    kestrel.AddServerHeader = false;

    // Kestrel:Limits in appsettings.json: slow or oversized clients are cut by the server, before the balancer.
    builder.Configuration.GetSection("Kestrel:Limits").Bind(kestrel.Limits);
});

// With no backends configured, start three demo backends in this process so that
// `curl localhost:8080` shows round robin at once. Given backends, start none.
await using var demo = await DemoBackends.StartIfUnconfiguredAsync(builder.Configuration);

builder.Services.AddLoadBalancer();

var app = builder.Build();

// Admin endpoints: answered on loopback only unless opened with .AllowRemoteAccess() (put authorization in front then).
app.MapLoadBalancerMetrics();   // Prometheus scrape endpoint: /metrics
app.MapLoadBalancerStats();     // per-backend rates, error rates and latency percentiles as JSON: /_lb/stats
app.MapLoadBalancerDashboard(); // live web dashboard of every pool and backend: /_lb
app.UseLoadBalancer();
app.Run();
