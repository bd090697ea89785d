using System.Buffers;
using System.Net;
using Balancing.AspNetCore.Diagnostics;
using Balancing.Pools;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using FinishedRequest = Balancing.Diagnostics.FinishedRequest;

namespace Balancing.AspNetCore.Forwarding;

/// <summary>
/// WebSocket tunnels: an HTTP/1.1 <c>Upgrade: websocket</c> request, or an HTTP/2 extended <c>CONNECT</c> with
/// <c>:protocol websocket</c> (RFC 8441), is sent to a backend as an HTTP/1.1 upgrade; once the backend answers
/// 101 the bytes flow both ways, unread, until either side closes or the tunnel goes idle.
/// </summary>
internal sealed partial class HttpForwarder
{
    private const int TunnelBufferSize = 16 * 1024;

    /// <summary>
    /// Whether the request asks for a WebSocket tunnel. Costs two header-bit reads for an ordinary request: the
    /// features are looked up only when an <c>Upgrade</c> header or the <c>CONNECT</c> method is present.
    /// </summary>
    private static bool IsWebSocketRequest(HttpContext context, out IHttpExtendedConnectFeature? extendedConnect)
    {
        extendedConnect = null;
        var request = context.Request;
        if (HttpMethods.IsConnect(request.Method))
        {
            extendedConnect = context.Features.Get<IHttpExtendedConnectFeature>();
            return extendedConnect is { IsExtendedConnect: true }
                && string.Equals(extendedConnect.Protocol, "websocket", StringComparison.OrdinalIgnoreCase);
        }

        var upgrade = request.Headers.Upgrade;
        return upgrade.Count == 1
            && string.Equals(upgrade[0], "websocket", StringComparison.OrdinalIgnoreCase)
            && HttpMethods.IsGet(request.Method)
            && context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true };
    }

    private async Task<FinishedRequest> ForwardWebSocketAsync(HttpContext context, ServerPool pool, ForwardingSettings settings, IHttpExtendedConnectFeature? extendedConnect, long start)
    {
        using var request = CreateUpgradeRequest(context, pool, settings, extendedConnect is not null);

        // Nothing has been exchanged before the backend answers, so the sender's failover applies as for any GET;
        // once it has answered 101 the tunnel belongs to that backend and is never moved.
        var result = await SendBalancedAsync(context, pool, settings, request, GetPathAndQuery(context), out var affinity, out var pin).ConfigureAwait(false);
        if (result.Response is not { } response)
        {
            return await WriteFailureAsync(context, pool, result, null, start).ConfigureAwait(false);
        }

        affinity?.OnServed(context, pin, result.Backend!);
        using (response)
        {
            if (response.StatusCode != HttpStatusCode.SwitchingProtocols)
            {
                // The backend declined the upgrade (401, 404, 426...): its answer is relayed like any other.
                var declined = await CopyResponseAsync(context, pool, result, response).ConfigureAwait(false);
                result.Complete(declined);
                return FinishedRequest.Relayed(result.Backend, (int)response.StatusCode, declined);
            }

            var outcome = await TunnelAsync(context, pool, settings, result, response, extendedConnect, start).ConfigureAwait(false);
            result.Complete(outcome);
            return FinishedRequest.Relayed(result.Backend, StatusCodes.Status101SwitchingProtocols, outcome);
        }
    }

    /// <summary>
    /// The upgrade request for the backend, always HTTP/1.1: the forwarded headers of an ordinary request plus
    /// <c>Connection: Upgrade</c> and <c>Upgrade: websocket</c>. An HTTP/2 client sends no <c>Sec-WebSocket-Key</c>
    /// (RFC 8441 §5), so one is made up for the backend; its answer's <c>Sec-WebSocket-Accept</c> is not relayed.
    /// </summary>
    private static HttpRequestMessage CreateUpgradeRequest(HttpContext context, ServerPool pool, ForwardingSettings settings, bool fromHttp2)
    {
        var request = CreateRequest(context, pool, settings, out var content);
        if (content is not null)
        {
            // An upgrade request's "body" is the tunnel itself; it is copied after the 101, not sent as content.
            request.Content = null;
            content.Dispose();
        }

        request.Method = HttpMethod.Get;
        request.Version = HttpVersion.Version11;
        request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        request.Headers.TryAddWithoutValidation(HeaderNames.Connection, "Upgrade");
        request.Headers.TryAddWithoutValidation(HeaderNames.Upgrade, "websocket");
        if (fromHttp2)
        {
            request.Headers.Remove(HeaderNames.SecWebSocketKey);
            request.Headers.TryAddWithoutValidation(HeaderNames.SecWebSocketKey, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)));
        }

        return request;
    }

    private async Task<BackendOutcome> TunnelAsync(HttpContext context, ServerPool pool, ForwardingSettings settings, BalancedResponse result, HttpResponseMessage response, IHttpExtendedConnectFeature? extendedConnect, long start)
    {
        var outgoing = context.Response;
        CopyResponseHeaders(response.Headers, outgoing.Headers);
        CopyResponseHeaders(response.Content.Headers, outgoing.Headers);
        Stream backendStream;
        Stream clientStream;
        try
        {
            backendStream = await response.Content.ReadAsStreamAsync(context.RequestAborted).ConfigureAwait(false);
            if (extendedConnect is not null)
            {
                // HTTP/2 says "200" where HTTP/1.1 says "101", and has no key to prove (RFC 8441 §5).
                outgoing.Headers.Remove(HeaderNames.SecWebSocketAccept);
                clientStream = await extendedConnect.AcceptAsync().ConfigureAwait(false);
            }
            else
            {
                outgoing.Headers.Upgrade = "websocket";
                clientStream = await context.Features.Get<IHttpUpgradeFeature>()!.UpgradeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or HttpRequestException or InvalidOperationException)
        {
            // The backend said 101; it is the client's side of the upgrade that failed.
            return await AbortResponseAsync(context, pool, result, ex, backendAtFault: false).ConfigureAwait(false);
        }

        LogForwarded(context, pool, result.Backend!, StatusCodes.Status101SwitchingProtocols, settings, start);
        var idle = pool.Options.WebSockets.IdleTimeout;
        using var tunnel = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        using var idleTimer = idle == Timeout.InfiniteTimeSpan ? null : new CancellationTokenSource(idle, _timeProvider);
        using var idleLink = idleTimer is null ? default : Balancing.Forwarding.TimeoutSourcePool.CancelWith(tunnel, idleTimer.Token);
        Task<PumpEnd> toBackend, toClient;
        Task<PumpEnd> first;
        try
        {
            toBackend = PumpAsync(clientStream, backendStream, tunnel, idleTimer, idle);
            toClient = PumpAsync(backendStream, clientStream, tunnel, idleTimer, idle);
            first = await Task.WhenAny(toBackend, toClient).ConfigureAwait(false);
        }
        finally
        {
            // Either side closing (or failing, or the tunnel going idle) closes the other: a WebSocket has no
            // half-close. Disposing the backend stream also ends a read that does not watch the token.
            await tunnel.CancelAsync().ConfigureAwait(false);
            await backendStream.DisposeAsync().ConfigureAwait(false);
        }

        var upstream = await toBackend.ConfigureAwait(false);
        var downstream = await toClient.ConfigureAwait(false);
        if (idleTimer?.IsCancellationRequested == true && !context.RequestAborted.IsCancellationRequested)
        {
            Log.WebSocketIdle(_logger, context.Request.Path.Value ?? "/", pool.Name, result.Backend!.Id, idle.TotalSeconds, TraceId(context));
            context.Abort();
            return BackendOutcome.Success;
        }

        var outcome = first == toClient
            ? downstream switch
            {
                // The backend closed: returning lets the client see a clean close rather than a reset.
                PumpEnd.Closed => BackendOutcome.Success,
                PumpEnd.ReadFailed => BackendOutcome.TransportError,
                _ => BackendOutcome.Canceled,
            }
            : upstream switch
            {
                PumpEnd.Closed => BackendOutcome.Success,
                PumpEnd.WriteFailed => BackendOutcome.TransportError,
                _ => BackendOutcome.Canceled,
            };

        if (outcome != BackendOutcome.Success || first == toBackend)
        {
            context.Abort();
        }

        return outcome;
    }

    private enum PumpEnd
    {
        /// <summary>The source reached its end: its side closed the connection.</summary>
        Closed,

        /// <summary>Reading from the source failed.</summary>
        ReadFailed,

        /// <summary>Writing to the destination failed.</summary>
        WriteFailed,

        /// <summary>The other direction ended first, or the tunnel went idle.</summary>
        Stopped,
    }

    /// <summary>Copies one direction until its source ends, a side fails or the tunnel is stopped; every read pushes the idle timer back.</summary>
    private static async Task<PumpEnd> PumpAsync(Stream source, Stream destination, CancellationTokenSource tunnel, CancellationTokenSource? idleTimer, TimeSpan idle)
    {
        var token = tunnel.Token;
        var buffer = ArrayPool<byte>.Shared.Rent(TunnelBufferSize);
        try
        {
            while (true)
            {
                int read;
                try
                {
                    read = await source.ReadAsync(buffer, token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or HttpRequestException)
                {
                    return token.IsCancellationRequested ? PumpEnd.Stopped : PumpEnd.ReadFailed;
                }

                if (read == 0)
                {
                    return PumpEnd.Closed;
                }

                idleTimer?.CancelAfter(idle);
                try
                {
                    await destination.WriteAsync(buffer.AsMemory(0, read), token).ConfigureAwait(false);
                    await destination.FlushAsync(token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or HttpRequestException)
                {
                    return token.IsCancellationRequested ? PumpEnd.Stopped : PumpEnd.WriteFailed;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
