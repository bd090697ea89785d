
namespace Balancing.Sample;

/// <summary>Three tiny backends on loopback, each answering with its own name, for trying the balancer out.</summary>
internal sealed class DemoBackends : IAsyncDisposable
{
    private readonly List<WebApplication> _apps = [];

    public static async Task<DemoBackends?> StartIfUnconfiguredAsync(ConfigurationManager configuration)
    {
        if (configuration.GetSection("LoadBalancer:Pools:default:Backends").GetChildren().Any())
        {
            return null;
        }

        var demo = new DemoBackends();
        var settings = new Dictionary<string, string?>();
        for (var i = 1; i <= 3; i++)
        {
            var name = $"demo-{i}";
            var address = await demo.StartOneAsync(name);
            settings[$"LoadBalancer:Pools:default:Backends:{name}:Address"] = address;
            Console.WriteLine($"Demo backend {name} listening on {address}");
        }

        configuration.AddInMemoryCollection(settings);
        return demo;
    }

    private async Task<string> StartOneAsync(string name)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/health", () => Results.Text("healthy"));
        app.Map("/{**path}", (HttpContext context) =>
            Results.Text($"Hello from {name}: {context.Request.Method} {context.Request.Path}{context.Request.QueryString}\n"));
        await app.StartAsync();
        _apps.Add(app);
        return app.Urls.First();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }
    }
}
