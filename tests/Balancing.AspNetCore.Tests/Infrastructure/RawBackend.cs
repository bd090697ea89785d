using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Balancing.AspNetCore.Tests.Infrastructure;

/// <summary>
/// A backend written on a bare <see cref="TcpListener"/> on 127.0.0.1: it misbehaves exactly as a test scripts it (cuts a
/// body short, resets, answers garbage, stalls), and records every request byte for byte, as it arrived on the wire.
/// </summary>
internal sealed class RawBackend : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<RawConnection, Task> _serve;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentBag<Socket> _sockets = [];
    private readonly Task _accepting;
    private int _connections;

    private RawBackend(string name, Func<RawConnection, Task> serve)
    {
        Name = name;
        _serve = serve;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public string Name { get; }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string Address => $"http://127.0.0.1:{Port}";

    /// <summary>Every request head (and its body, when the script read it), in arrival order.</summary>
    public ConcurrentQueue<string> Received { get; } = new();

    /// <summary>How many connections were accepted.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Settings for one pool <c>default</c> over this backend alone, with retries off: each request reaches it at most once.</summary>
    public Dictionary<string, string?> SingleAttemptPool() => new()
    {
        [$"LoadBalancer:Pools:default:Backends:{Name}:Address"] = Address,
        ["LoadBalancer:Pools:default:Retry:Enabled"] = "false",
    };

    /// <summary>Starts a backend that runs <paramref name="serve"/> once for each accepted connection.</summary>
    public static RawBackend Start(string name, Func<RawConnection, Task> serve) => new(name, serve);

    /// <summary>A well-behaved backend: it reads each request with its body, records it, and answers 200 <c>ok</c>, keeping the connection alive.</summary>
    public static RawBackend Recording(string name) => Start(name, async connection =>
    {
        while (await connection.ReadRequestAsync(withBody: true) is not null)
        {
            await connection.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok");
        }
    });

    /// <summary>A backend that reads a request head and then runs <paramref name="respond"/> once.</summary>
    public static RawBackend Answering(string name, Func<RawConnection, Task> respond) => Start(name, async connection =>
    {
        if (await connection.ReadRequestAsync(withBody: true) is not null)
        {
            await respond(connection);
        }
    });

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stopping.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Interlocked.Increment(ref _connections);
            _sockets.Add(socket);
            _ = ServeAsync(socket);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        var connection = new RawConnection(socket, this, _stopping.Token);
        try
        {
            await _serve(connection);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The balancer or the test ended the connection.
        }
        finally
        {
            connection.Close();
        }
    }

    internal void Record(string request) => Received.Enqueue(request);

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _listener.Stop();
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }

        await _accepting;
        _stopping.Dispose();
    }
}

/// <summary>One accepted connection of a <see cref="RawBackend"/>.</summary>
internal sealed class RawConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly RawBackend _backend;
    private readonly NetworkStream _stream;
    private readonly CancellationToken _stopping;
    private readonly List<byte> _pending = [];

    internal RawConnection(Socket socket, RawBackend backend, CancellationToken stopping)
    {
        _socket = socket;
        _backend = backend;
        _stopping = stopping;
        _stream = new NetworkStream(socket, ownsSocket: false);
    }

    /// <summary>
    /// Reads one request: its head and, with <paramref name="withBody"/>, the body its framing declares (Content-Length
    /// or chunked). Records it and returns it, or returns <see langword="null"/> when the peer closed first.
    /// </summary>
    public async Task<string?> ReadRequestAsync(bool withBody)
    {
        var head = await ReadUntilAsync("\r\n\r\n"u8.ToArray());
        if (head is null)
        {
            return null;
        }

        var request = head;
        if (withBody)
        {
            if (HeaderValue(head, "Transfer-Encoding") is { } coding && coding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            {
                var body = new StringBuilder();
                while (true)
                {
                    var sizeLine = await ReadUntilAsync("\r\n"u8.ToArray()) ?? throw new IOException("The request ended inside a chunk size.");
                    body.Append(sizeLine);
                    var size = int.Parse(sizeLine.AsSpan(0, sizeLine.Length - 2).ToString().Split(';')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                    if (size == 0)
                    {
                        body.Append(await ReadUntilAsync("\r\n"u8.ToArray()));
                        break;
                    }

                    body.Append(await ReadExactlyAsync(size + 2));
                }

                request += body.ToString();
            }
            else if (HeaderValue(head, "Content-Length") is { } length)
            {
                request += await ReadExactlyAsync(int.Parse(length, CultureInfo.InvariantCulture));
            }
        }

        _backend.Record(request);
        return request;
    }

    /// <summary>The value of the first header named <paramref name="name"/> in a request head, or <see langword="null"/>.</summary>
    public static string? HeaderValue(string head, string name)
    {
        foreach (var line in head.Split("\r\n"))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line.AsSpan(0, colon).Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return line[(colon + 1)..].Trim();
            }
        }

        return null;
    }

    public async Task WriteAsync(string text)
    {
        await _stream.WriteAsync(Encoding.ASCII.GetBytes(text), _stopping);
        await _stream.FlushAsync(_stopping);
    }

    public async Task WriteAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes, _stopping);
        await _stream.FlushAsync(_stopping);
    }

    /// <summary>Waits until the peer closes the connection (or the backend stops), reading and dropping anything it sends.</summary>
    public async Task WaitForCloseAsync()
    {
        var buffer = new byte[4096];
        while (await _stream.ReadAsync(buffer, _stopping) > 0)
        {
        }
    }

    /// <summary>Ends the connection with a TCP reset instead of an orderly close.</summary>
    public void Reset()
    {
        _socket.LingerState = new LingerOption(true, 0);
        _socket.Close();
    }

    /// <summary>Closes the connection in order (FIN).</summary>
    public void Close()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }

        Dispose();
    }

    public void Dispose()
    {
        _stream.Dispose();
        _socket.Dispose();
    }

    private async Task<string?> ReadUntilAsync(byte[] terminator)
    {
        var buffer = new byte[4096];
        while (true)
        {
            var end = IndexOf(_pending, terminator);
            if (end >= 0)
            {
                var length = end + terminator.Length;
                var text = Encoding.Latin1.GetString([.. _pending.GetRange(0, length)]);
                _pending.RemoveRange(0, length);
                return text;
            }

            var read = await _stream.ReadAsync(buffer, _stopping);
            if (read == 0)
            {
                return null;
            }

            _pending.AddRange(buffer.AsSpan(0, read));
        }
    }

    private async Task<string> ReadExactlyAsync(int count)
    {
        var buffer = new byte[4096];
        while (_pending.Count < count)
        {
            var read = await _stream.ReadAsync(buffer, _stopping);
            if (read == 0)
            {
                throw new IOException($"The connection closed after {_pending.Count} of {count} body bytes.");
            }

            _pending.AddRange(buffer.AsSpan(0, read));
        }

        var text = Encoding.Latin1.GetString([.. _pending.GetRange(0, count)]);
        _pending.RemoveRange(0, count);
        return text;
    }

    private static int IndexOf(List<byte> data, byte[] pattern)
    {
        for (var i = 0; i <= data.Count - pattern.Length; i++)
        {
            var match = true;
            for (var j = 0; j < pattern.Length && match; j++)
            {
                match = data[i + j] == pattern[j];
            }

            if (match)
            {
                return i;
            }
        }

        return -1;
    }
}
