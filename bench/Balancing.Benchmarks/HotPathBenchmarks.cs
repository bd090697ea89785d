using Balancing;
using Balancing.AspNetCore.Forwarding;
using Balancing.Pools;
using Balancing.Strategies;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;

namespace Balancing.Benchmarks;

/// <summary>The steps of one forwarded request that the balancer owns, each measured alone.</summary>
[MemoryDiagnoser]
public class HotPathBenchmarks
{
    private readonly RoundRobinStrategy _roundRobin = new();
    private ServerPool _pool = null!;
    private ForwardingSettings _settings = null!;
    private DefaultHttpContext _context = null!;

    [GlobalSetup]
    public void Setup()
    {
        var options = new PoolOptions();
        for (var i = 1; i <= 3; i++)
        {
            options.Backends[$"b{i}"] = new BackendOptions { Address = $"http://127.0.0.1:{9100 + i}" };
        }

        _pool = new ServerPool("default", options, new RoundRobinStrategy(), TimeProvider.System);
        ForwardingSettings? cache = null;
        _settings = ForwardingSettings.For(new LoadBalancerOptions(), ref cache);

        // A typical browser request: a dozen headers, no body.
        _context = new DefaultHttpContext();
        var request = _context.Request;
        request.Method = "GET";
        request.Scheme = "http";
        request.Host = new HostString("shop.example", 8080);
        request.Path = "/products/42";
        request.QueryString = new QueryString("?color=red");
        request.Headers.Accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        request.Headers.AcceptEncoding = "gzip, deflate, br";
        request.Headers.AcceptLanguage = "en-GB,en;q=0.9";
        request.Headers.UserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
        request.Headers.Cookie = "session=abc123; theme=dark";
        request.Headers.Connection = "keep-alive";
        request.Headers.CacheControl = "no-cache";
        request.Headers["Sec-Fetch-Mode"] = "navigate";
        request.Headers["Upgrade-Insecure-Requests"] = "1";
        _context.Connection.RemoteIpAddress = System.Net.IPAddress.Parse("192.0.2.10");
    }

    [Benchmark(Description = "strategy pick (round robin, 3 backends)")]
    public BackendState? StrategyPick() => _roundRobin.Pick(_pool.AvailableBackends.AsSpan(), default);

    [Benchmark(Description = "pool snapshot read")]
    public int PoolSnapshotRead() => _pool.AvailableBackends.Length;

    [Benchmark(Description = "request build: headers, X-Forwarded-*, URI")]
    public HttpRequestMessage BuildRequest()
    {
        var message = HttpForwarder.CreateRequest(_context, _pool, _settings, out _);
        message.Dispose();
        return message;
    }
}
