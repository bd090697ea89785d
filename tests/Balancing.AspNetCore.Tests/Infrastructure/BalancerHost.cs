using System.Net;
using System.Net.Sockets;
using System.Text;
using Balancing.Pools;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Balancing.AspNetCore.Tests.Infrastructure;

/// <summary>The balancer as an app would host it: a real Kestrel server on 127.0.0.1 with an ephemeral port.</summary>
internal sealed class BalancerHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BalancerHost(WebApplication app, FakeLogCollector logs)
    {
        _app = app;
        Logs = logs;
        Client = CreateClient();
    }

    public string Address => _app.Urls.First();

    public Uri BaseUri => new(Address);

    public HttpClient Client { get; }

    public FakeLogCollector Logs { get; }

    public IServiceProvider Services => _app.Services;

    public ServerPoolRegistry Registry => _app.Services.GetRequiredService<ServerPoolRegistry>();

    /// <summary>Builds a settings dictionary for one pool <c>default</c> over <paramref name="backends"/>.</summary>
    public static Dictionary<string, string?> PoolSettings(params TestBackend[] backends) => PoolSettings("default", backends);

    /// <summary>Pool <c>default</c> over <paramref name="backends"/>, each client limited to <paramref name="permits"/> requests an hour.</summary>
    public static Dictionary<string, string?> RateLimitedPoolSettings(int permits, params TestBackend[] backends)
    {
        var settings = PoolSettings(backends);
        settings["LoadBalancer:RateLimiting:Enabled"] = "true";
        settings["LoadBalancer:RateLimiting:PermitLimit"] = permits.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["LoadBalancer:RateLimiting:TokensPerPeriod"] = "1";
        settings["LoadBalancer:RateLimiting:Window"] = "01:00:00";
        return settings;
    }

    public static Dictionary<string, string?> PoolSettings(string pool, params TestBackend[] backends)
    {
        var settings = new Dictionary<string, string?>();
        foreach (var backend in backends)
        {
            settings[$"LoadBalancer:Pools:{pool}:Backends:{backend.Name}:Address"] = backend.Address;
        }

        return settings;
    }

    /// <summary>Starts a balancer configured from <paramref name="settings"/> (keys under <c>LoadBalancer:</c>).</summary>
    public static Task<BalancerHost> StartAsync(
        IDictionary<string, string?> settings,
        Action<WebApplication>? configureApp = null,
        Action<IServiceCollection>? configureServices = null,
        string? jsonFile = null,
        HttpProtocols protocols = HttpProtocols.Http1AndHttp2,
        IPAddress? listenOn = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.Sources.Clear();
        if (jsonFile is not null)
        {
            builder.Configuration.AddJsonFile(jsonFile, optional: false, reloadOnChange: true);
        }

        builder.Configuration.AddInMemoryCollection(settings);
        var logs = new FakeLogCollector();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddProvider(new FakeLoggerProvider(logs));
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(listenOn ?? IPAddress.Loopback, 0, o => o.Protocols = protocols);
            k.AddServerHeader = false;
        });
        builder.Services.AddLoadBalancer();
        configureServices?.Invoke(builder.Services);
        var app = builder.Build();
        if (configureApp is not null)
        {
            configureApp(app);
        }
        else
        {
            app.UseLoadBalancer();
        }

        return StartAppAsync(app, logs);
    }

    /// <summary>Starts a balancer whose clock is <paramref name="clock"/>, for timeouts, probes and breakers under test control.</summary>
    public static Task<BalancerHost> StartWithClockAsync(IDictionary<string, string?> settings, TimeProvider clock, Action<WebApplication>? configureApp = null)
        => StartAsync(settings, configureApp, services =>
        {
            services.AddSingleton(clock);

            // Kestrel reads the same clock: its minimum request-body data rate would otherwise judge requests
            // that span fake seconds (slow uploads, probes between rounds) as too slow and end them with 408.
            services.Configure<KestrelServerOptions>(o => o.Limits.MinRequestBodyDataRate = null);
        });

    /// <summary>A loopback port nothing listens on: connecting to it is refused at once.</summary>
    public static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static async Task<BalancerHost> StartAppAsync(WebApplication app, FakeLogCollector logs)
    {
        await app.StartAsync();
        return new BalancerHost(app, logs);
    }

    /// <summary>A client that behaves like a plain HTTP client: no cookies, no redirects, no decompression.</summary>
    public HttpClient CreateClient() => new(new SocketsHttpHandler
    {
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseProxy = false,
    })
    {
        BaseAddress = BaseUri,
        Timeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>Sends raw bytes on a new TCP connection and returns everything the balancer sends back until it closes or goes quiet.</summary>
    public async Task<string> SendRawAsync(string request, TimeSpan? quiet = null)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, BaseUri.Port);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        return await ReadResponseAsync(stream, quiet ?? TimeSpan.FromSeconds(5));
    }

    /// <summary>Reads from <paramref name="stream"/> until the peer closes, a full response has arrived, or nothing arrives for <paramref name="quiet"/>.</summary>
    public static async Task<string> ReadResponseAsync(Stream stream, TimeSpan quiet)
    {
        var received = new StringBuilder();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            using var cts = new CancellationTokenSource(quiet);
            int read;
            try
            {
                read = await stream.ReadAsync(buffer, cts.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (IOException)
            {
                break;
            }

            if (read == 0)
            {
                break;
            }

            received.Append(Encoding.ASCII.GetString(buffer, 0, read));
            if (IsCompleteResponse(received.ToString()))
            {
                break;
            }
        }

        return received.ToString();
    }

    private static bool IsCompleteResponse(string text)
    {
        var headerEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (headerEnd < 0)
        {
            return false;
        }

        var head = text[..headerEnd];
        if (head.StartsWith("HTTP/1.1 100", StringComparison.Ordinal))
        {
            return IsCompleteResponse(text[(headerEnd + 4)..]);
        }

        foreach (var line in head.Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                var length = int.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
                return text.Length - (headerEnd + 4) >= length;
            }
        }

        return text.EndsWith("0\r\n\r\n", StringComparison.Ordinal);
    }

    /// <summary>Completes with the first configuration change after the call, applied or not.</summary>
    public Task<ConfigurationChangeResult> NextConfigurationChange()
    {
        var registry = Registry;
        var changed = new TaskCompletionSource<ConfigurationChangeResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Handler(object? sender, ConfigurationChangeResult result)
        {
            registry.ConfigurationChanged -= Handler;
            changed.TrySetResult(result);
        }

        registry.ConfigurationChanged += Handler;
        return changed.Task;
    }

    /// <summary>Stops the host the way SIGTERM does: Kestrel stops accepting, drains within the host's ShutdownTimeout, then aborts.</summary>
    public Task StopAsync() => _app.StopAsync();

    /// <summary>Signalled when the host starts stopping.</summary>
    public CancellationToken Stopping => _app.Lifetime.ApplicationStopping;

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.DisposeAsync();
    }
}
