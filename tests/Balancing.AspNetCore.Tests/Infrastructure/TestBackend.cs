using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Balancing.AspNetCore.Tests.Infrastructure;

/// <summary>What a backend saw of one request.</summary>
internal sealed record ReceivedRequest(string Method, string RawTarget, string Path, IReadOnlyDictionary<string, string[]> Headers, long BodyLength);

/// <summary>A real Kestrel backend on 127.0.0.1 with an ephemeral port, recording what it receives.</summary>
internal sealed class TestBackend : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestBackend(WebApplication app, string name)
    {
        _app = app;
        Name = name;
    }

    public string Name { get; }

    public string Address => _app.Urls.First();

    public ConcurrentQueue<ReceivedRequest> Received { get; } = new();

    public int Port => new Uri(Address).Port;

    /// <summary>Starts a backend. With no handler it answers 200 with its own name as the body.</summary>
    public static async Task<TestBackend> StartAsync(string name, RequestDelegate? handler = null, bool recordBodies = false, HttpProtocols protocols = HttpProtocols.Http1AndHttp2, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(System.Net.IPAddress.Loopback, port, o => o.Protocols = protocols);
            k.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        TestBackend? backend = null;
        app.Run(async context =>
        {
            var rawTarget = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
            long length = 0;
            if (recordBodies)
            {
                var buffer = new byte[64 * 1024];
                int read;
                while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
                {
                    length += read;
                }
            }

            backend!.Received.Enqueue(new ReceivedRequest(
                context.Request.Method,
                rawTarget,
                context.Request.Path.Value ?? string.Empty,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.Select(v => v ?? string.Empty).ToArray(), StringComparer.OrdinalIgnoreCase),
                length));

            if (handler is not null)
            {
                await handler(context);
            }
            else
            {
                context.Response.ContentType = "text/plain";
                await context.Response.WriteAsync(name);
            }
        });
        backend = new TestBackend(app, name);
        await app.StartAsync();
        return backend;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
