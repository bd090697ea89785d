using System.Diagnostics;
using Balancing.AspNetCore.Tests.Infrastructure;

namespace Balancing.Redis.Tests.Infrastructure;

/// <summary>
/// A real <c>redis-server</c> (Debian package <c>redis-server</c>) on a free loopback port, without persistence, that a
/// test can stop and start again on the same port to play an outage.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private readonly string _program;
    private Process? _process;

    private RedisServer(string program, int port)
    {
        _program = program;
        Port = port;
    }

    public int Port { get; }

    public string Configuration => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync()
    {
        var program = SystemPackages.Require("redis-server", "redis-server");
        var server = new RedisServer(program, BalancerHost.ClosedPort());
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts the server (again), and returns once it accepts connections.</summary>
    public async Task RestartAsync()
    {
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var start = new ProcessStartInfo(_program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no" })
        {
            start.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            output.Enqueue(e.Data);
            if (e.Data.Contains("Ready to accept connections", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("redis-server exited: " + string.Join('\n', output)));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(15));
    }

    /// <summary>How many keys match <paramref name="pattern"/>, asked over a connection of the test's own.</summary>
    public async Task<int> KeyCountAsync(string pattern)
    {
        await using var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(Configuration);
        return ((StackExchange.Redis.RedisResult[])(await connection.GetDatabase().ExecuteAsync("KEYS", pattern))!).Length;
    }

    /// <summary>Kills the server, as a crash or a network cut would, and returns once it is gone.</summary>
    public async Task StopAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            process.Kill();
            await process.WaitForExitAsync();
            process.Dispose();
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());
}
