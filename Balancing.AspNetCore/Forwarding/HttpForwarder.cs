using System.Buffers;
using System.Diagnostics;
using System.Net;
using Balancing.AspNetCore.Diagnostics;
using Balancing.Pools;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using BalancingMetrics = Balancing.Diagnostics.BalancingMetrics;
using FinishedRequest = Balancing.Diagnostics.FinishedRequest;

namespace Balancing.AspNetCore.Forwarding;

/// <summary>
/// Turns an <see cref="HttpContext"/> into an <see cref="HttpRequestMessage"/>, sends it through the
/// <see cref="BalancedSender"/>, and streams the answer back; maps failures to 502/503/504.
/// </summary>
internal sealed partial class HttpForwarder
{
    private const int ResponseBufferSize = 64 * 1024;

    private readonly ServerPoolRegistry _registry;
    private readonly BalancedSender _sender;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Affinity.SessionAffinity _affinity;
    private readonly BalancingMetrics _metrics;
    private readonly RateLimiting.ClientRateLimiting _rateLimiting;
    private readonly Caching.ResponseCache _cache;
    private readonly Balancing.Forwarding.TimeoutSourcePool _bodyTimeouts;
    private ForwardingSettings? _settings;

    public HttpForwarder(ServerPoolRegistry registry, BalancedSender sender, TimeProvider timeProvider, ILogger<HttpForwarder> logger, Affinity.SessionAffinity affinity, BalancingMetrics metrics, RateLimiting.ClientRateLimiting rateLimiting, Caching.ResponseCache cache)
    {
        _rateLimiting = rateLimiting;
        _cache = cache;
        _registry = registry;
        _sender = sender;
        _timeProvider = timeProvider;
        _logger = logger;
        _affinity = affinity;
        _metrics = metrics;
        _bodyTimeouts = new Balancing.Forwarding.TimeoutSourcePool(timeProvider);
    }

    /// <param name="context">The request.</param>
    /// <param name="poolName">The pool to forward to.</param>
    /// <param name="route">The route that chose the pool, whose rate limit and <c>Caching</c> setting apply; <see langword="null"/> for none.</param>
    public async Task ForwardAsync(HttpContext context, string poolName, string? route = null)
    {
        var start = _timeProvider.GetTimestamp();

        // Every way out records the request once; an exception that escapes leaves it at "internal_error".
        var finished = FinishedRequest.Unhandled;
        System.Threading.RateLimiting.RateLimitLease? lease = null;
        try
        {
            var settings = ForwardingSettings.For(_registry.Options, ref _settings);
            if (_rateLimiting.Current.IsActive)
            {
                // Before anything else: a client over its limit costs no backend, no buffering, no cache lookup.
                (lease, var refused) = await RateLimiting.RateLimitedResponse.CheckAsync(_rateLimiting, context, settings, route).ConfigureAwait(false);
                if (refused is { } outcome)
                {
                    finished = outcome;
                    if (outcome.Outcome == Balancing.Diagnostics.RequestOutcome.RateLimited)
                    {
                        _metrics.RateLimitRejected(poolName, route);
                    }

                    return;
                }
            }

            var pool = _registry.GetPool(poolName);
            if (pool is null)
            {
                finished = FinishedRequest.PoolNotFound;
                Log.PoolNotFound(_logger, poolName);
                context.Response.Headers.RetryAfter = "1";
                await ProblemResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "No backend is available to serve this request.").ConfigureAwait(false);
                return;
            }

            if (pool.Options.WebSockets.Enabled && IsWebSocketRequest(context, out var extendedConnect))
            {
                finished = await ForwardWebSocketAsync(context, pool, settings, extendedConnect, start).ConfigureAwait(false);
                return;
            }

            if (settings.MaxRequestBodySize is long limit
                && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
            {
                bodySize.MaxRequestBodySize = limit;
            }

            if (RefusalOf(context, settings) is { } refusal)
            {
                finished = FinishedRequest.Refused(refusal.Status);
                Log.RequestRefused(_logger, context.Request.Method, context.Request.Path, pool.Name, refusal.Status, refusal.Detail, TraceId(context));
                await ProblemResponse.WriteAsync(context, refusal.Status, refusal.Detail).ConfigureAwait(false);
                return;
            }

            // The response cache costs one flag check while it is off.
            var invalidateCache = false;
            if (settings.Source.Caching.Enabled && Caching.ResponseCache.AppliesTo(settings.Source, route))
            {
                if (CacheKeyOf(context, pool, settings) is { } cacheKey
                    && await ForwardThroughCacheAsync(context, pool, settings, cacheKey, start).ConfigureAwait(false) is { } served)
                {
                    finished = served;
                    return;
                }

                invalidateCache = !HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method);
            }

            var bodyLength = BufferableBodyLength(context, pool);
            var buffered = bodyLength > 0 ? ArrayPool<byte>.Shared.Rent(bodyLength) : null;
            try
            {
                if (buffered is not null && await ReadWholeBodyAsync(context, pool, buffered, bodyLength, start).ConfigureAwait(false) is { } failed)
                {
                    finished = failed;
                    return;
                }

                // Sent and relayed here rather than in a method of its own: every asynchronous method a request waits in
                // allocates its own state, and this is the path of every request.
                using (var request = CreateRequest(context, pool, settings, out var content, buffered, bodyLength))
                {
                    var result = await SendBalancedAsync(context, pool, settings, request, GetPathAndQuery(context), out var affinity, out var pin).ConfigureAwait(false);
                    if (result.Response is not { } response)
                    {
                        finished = await WriteFailureAsync(context, pool, result, content?.ReadFailure, start).ConfigureAwait(false);
                    }
                    else
                    {
                        affinity?.OnServed(context, pin, result.Backend!);
                        using (response)
                        {
                            var outcome = await CopyResponseAsync(context, pool, result, response).ConfigureAwait(false);
                            result.Complete(outcome);

                            // An exchange that broke mid-response already has its own line (events 102 and 103).
                            if (outcome is BackendOutcome.Success or BackendOutcome.FailureStatus)
                            {
                                LogForwarded(context, pool, result.Backend!, context.Response.StatusCode, settings, start);
                            }

                            finished = FinishedRequest.Relayed(result.Backend, (int)response.StatusCode, outcome);
                        }
                    }
                }

                if (invalidateCache)
                {
                    InvalidateAfterUnsafeMethod(context, pool, finished);
                }
            }
            finally
            {
                if (buffered is not null)
                {
                    ArrayPool<byte>.Shared.Return(buffered);
                }
            }
        }
        finally
        {
            lease?.Dispose();
            _metrics.RequestEnded(poolName, finished, _timeProvider.GetElapsedTime(start));
        }
    }

    /// <summary>
    /// What the balancer answers itself, before any backend is tried: a body declared over the limit (no need to start a backend exchange that must fail), a forward-proxy
    /// <c>CONNECT</c>. <see langword="null"/> for a request to forward.
    /// </summary>
    private static (int Status, string Detail)? RefusalOf(HttpContext context, ForwardingSettings settings)
    {
        // Kestrel has already refused a length it could read two ways (two values, a list), and frames a body that
        // also says chunked by its chunks.
        var request = context.Request;
        if (request.ContentLength is long declared
            && declared > (context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize ?? settings.MaxRequestBodySize))
        {
            return (StatusCodes.Status413PayloadTooLarge, "The request body is larger than this server accepts.");
        }

        // A CONNECT asks for a tunnel to the host it names: that is a forward proxy's job. HTTP/2's extended CONNECT
        // (WebSockets over HTTP/2) names a protocol, not a host, and is not refused here.
        if (HttpMethods.IsConnect(request.Method) && context.Features.Get<IHttpExtendedConnectFeature>() is not { IsExtendedConnect: true })
        {
            context.Response.Headers.Allow = "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE";
            return (StatusCodes.Status405MethodNotAllowed, "CONNECT is not served: this is not a forward proxy.");
        }

        return null;
    }

    /// <summary>
    /// The length of a body worth holding in memory so the request can be retried: an idempotent method, a declared
    /// length within the pool's limit, retries on. Zero when the body should stream instead.
    /// </summary>
    private static int BufferableBodyLength(HttpContext context, ServerPool pool)
        => pool.Retry is not null
            && context.Request.ContentLength is long length && length > 0 && length <= pool.Options.Retry.MaxBufferedBodySize
            && Balancing.Forwarding.RetryPolicy.IsIdempotent(HttpMethodCache.Get(context.Request.Method))
            ? (int)length
            : 0;

    /// <summary>Reads the body to be buffered; when that fails, answers the client and returns how the request ended.</summary>
    private async Task<FinishedRequest?> ReadWholeBodyAsync(HttpContext context, ServerPool pool, byte[] buffer, int length, long start)
    {
        Exception? failure;
        try
        {
            var read = await context.Request.Body.ReadAtLeastAsync(buffer.AsMemory(0, length), length, throwOnEndOfStream: false, context.RequestAborted).ConfigureAwait(false);
            if (read == length)
            {
                return null;
            }

            failure = new IOException($"The client sent {read} of the {length} bytes it declared.");
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or BadHttpRequestException)
        {
            failure = ex;
        }

        var result = new BalancedResponse(null, null, ForwardError.RequestBodyFailed, failure, TimeSpan.Zero);
        return await WriteFailureAsync(context, pool, result, failure, start).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends <paramref name="request"/> through the balancer (strategy, failover, breakers) with what the strategy may know
    /// of the request and the pin it carries. Not itself asynchronous, so it adds no state machine; the caller calls
    /// <see cref="Affinity.AffinityPolicy.OnServed"/> on <paramref name="affinity"/> once it has a backend response.
    /// </summary>
    private ValueTask<BalancedResponse> SendBalancedAsync(HttpContext context, ServerPool pool, ForwardingSettings settings, HttpRequestMessage request, string target, out Affinity.AffinityPolicy? affinity, out Affinity.AffinityPin pin)
    {
        affinity = _affinity.For(pool);
        pin = affinity?.Read(context) ?? default;
        return _sender.SendAsync(pool, request, target, HashKeyReader.CreateContext(context, pool, settings) with { AffinityBackendId = pin.BackendId }, context.RequestAborted);
    }

    internal static HttpRequestMessage CreateRequest(HttpContext context, ServerPool pool, ForwardingSettings settings, out StreamingRequestContent? content, byte[]? buffered = null, int bufferedLength = 0)
    {
        var incoming = context.Request;
        var request = new HttpRequestMessage
        {
            Method = HttpMethodCache.Get(incoming.Method),
            Version = pool.RequestVersion,
            VersionPolicy = pool.Options.VersionPolicy,
        };

        content = null;
        HttpContent? body = null;
        if (buffered is not null)
        {
            // Held in memory so that a failed attempt can be repeated on another backend.
            body = new ByteArrayContent(buffered, 0, bufferedLength);
            request.Content = body;
        }
        else if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? (incoming.ContentLength > 0))
        {
            // A body of declared length is a transfer, not a conversation: its pieces may wait in the client
            // stack's buffer. One without (chunked, HTTP/2 streams) or a gRPC call may be a conversation, so each
            // piece is flushed as it arrives.
            var flushEachPiece = incoming.ContentLength is null
                || (incoming.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) ?? false);
            content = new StreamingRequestContent(incoming.Body, context.RequestAborted, flushEachPiece);
            body = content;
            request.Content = content;
        }

        var headers = incoming.Headers;
        var connectionTokens = headers.TryGetValue(HeaderNames.Connection, out var connection) && connection.Count > 0
            ? ProxyHeaders.ParseConnectionTokens(connection)
            : null;
        var mode = settings.XForwarded;
        var peer = context.Connection.RemoteIpAddress;
        var trusted = mode == XForwardedMode.Append && settings.IsTrustedProxy(peer);

        foreach (var header in headers)
        {
            var name = header.Key;
            if (ProxyHeaders.IsHopByHop(name))
            {
                // TE: trailers is how a gRPC client says it understands trailers; it must reach the backend.
                if (name.Equals(HeaderNames.TE, StringComparison.OrdinalIgnoreCase) && header.Value.Count == 1
                    && string.Equals(header.Value[0], "trailers", StringComparison.OrdinalIgnoreCase))
                {
                    request.Headers.TryAddWithoutValidation(name, "trailers");
                }

                continue;
            }

            // A name with an underscore is dropped, as NGINX does by default: CGI-style backends read X_Forwarded_For
            // and X-Forwarded-For as the same variable, so it could pass for a header the balancer controls.
            if (name.Equals(HeaderNames.Host, StringComparison.OrdinalIgnoreCase)
                || (!settings.AllowUnderscoresInHeaders && name.Contains('_', StringComparison.Ordinal))
                || (connectionTokens is not null && connectionTokens.Contains(name))
                || (mode != XForwardedMode.Off && !trusted && ProxyHeaders.IsForwardingHeader(name))
                || (trusted && (name.Equals(ProxyHeaders.XForwardedFor, StringComparison.OrdinalIgnoreCase))))
            {
                continue;
            }

            if (ProxyHeaders.IsContentHeader(name))
            {
                body?.Headers.TryAddWithoutValidation(name, ToEnumerable(header.Value));
            }
            else if (buffered is not null && name.Equals(HeaderNames.Expect, StringComparison.OrdinalIgnoreCase))
            {
                // The body is already here: waiting for the backend's 100 Continue would only add a delay.
            }
            else
            {
                AddHeader(request.Headers, name, header.Value);
            }
        }

        if (pool.Options.PreserveHostHeader)
        {
            request.Headers.Host = incoming.Host.Value;
        }

        if (mode is XForwardedMode.Set or XForwardedMode.Append)
        {
            AddForwardedHeaders(request, incoming, peer, trusted);
        }

        return request;
    }

    private static void AddForwardedHeaders(HttpRequestMessage request, HttpRequest incoming, IPAddress? peer, bool trusted)
    {
        var peerText = peer is null ? null : (peer.IsIPv4MappedToIPv6 ? peer.MapToIPv4() : peer).ToString();
        if (trusted && incoming.Headers.TryGetValue(ProxyHeaders.XForwardedFor, out var previous) && !StringValues.IsNullOrEmpty(previous))
        {
            var chain = string.Join(", ", previous.ToArray());
            request.Headers.TryAddWithoutValidation(ProxyHeaders.XForwardedFor, peerText is null ? chain : $"{chain}, {peerText}");
        }
        else if (peerText is not null)
        {
            request.Headers.TryAddWithoutValidation(ProxyHeaders.XForwardedFor, peerText);
        }

        // From a trusted proxy the original scheme and host were copied through unchanged; otherwise they are ours.
        if (!trusted || !incoming.Headers.ContainsKey(ProxyHeaders.XForwardedProto))
        {
            request.Headers.TryAddWithoutValidation(ProxyHeaders.XForwardedProto, incoming.Scheme);
        }

        if ((!trusted || !incoming.Headers.ContainsKey(ProxyHeaders.XForwardedHost)) && incoming.Host.HasValue)
        {
            request.Headers.TryAddWithoutValidation(ProxyHeaders.XForwardedHost, incoming.Host.Value);
        }
    }

    /// <summary>
    /// The request target exactly as the client sent it (so <c>%2F</c> and <c>%20</c> reach the backend untouched);
    /// rebuilt from the decoded path only for the rare absolute-form and asterisk-form targets.
    /// </summary>
    private static string GetPathAndQuery(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (!string.IsNullOrEmpty(raw) && raw[0] == '/')
        {
            return raw;
        }

        var request = context.Request;
        var path = (request.PathBase + request.Path).ToUriComponent();
        return string.Concat(path.Length == 0 ? "/" : path, request.QueryString.ToUriComponent());
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<BackendOutcome> CopyResponseAsync(HttpContext context, ServerPool pool, BalancedResponse result, HttpResponseMessage response, Caching.ResponseCapture? capture = null)
    {
        var outgoing = context.Response;
        outgoing.StatusCode = (int)response.StatusCode;
        CopyResponseHeaders(response.Headers, outgoing.Headers);
        CopyResponseHeaders(response.Content.Headers, outgoing.Headers);

        var backendOutcome = (int)response.StatusCode >= 500 ? BackendOutcome.FailureStatus : BackendOutcome.Success;
        var declaredLength = response.Content.Headers.ContentLength;
        if (declaredLength == 0 || HttpMethods.IsHead(context.Request.Method))
        {
            // Nothing to copy; the headers go out when the request completes.
            return backendOutcome;
        }

        // A small answer with a declared length gets a small buffer: less memory touched per request.
        var bufferSize = declaredLength is > 0 and < ResponseBufferSize ? (int)declaredLength.Value : ResponseBufferSize;
        var aborted = context.RequestAborted;
        Stream body;
        try
        {
            body = await response.Content.ReadAsStreamAsync(aborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            return await AbortResponseAsync(context, pool, result, ex).ConfigureAwait(false);
        }

        // The pool Timeout measures inactivity on the response body too: a backend that stops sending mid-body
        // would otherwise hold the client (and a connection) forever. It runs only while a read waits on the
        // backend, so a client slow to take what was read is not blamed on the backend.
        var period = pool.Options.Timeout;
        var stalled = period == Timeout.InfiniteTimeSpan ? null : _bodyTimeouts.Rent(Timeout.InfiniteTimeSpan);
        var link = stalled is null ? default : Balancing.Forwarding.TimeoutSourcePool.CancelWith(stalled, aborted);
        var readToken = stalled?.Token ?? aborted;
        var buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
        var readSize = Math.Min(buffer.Length, ResponseBufferSize);
        try
        {
            await using (body.ConfigureAwait(false))
            {
                while (true)
                {
                    int read;
                    try
                    {
                        // Most reads of a small body find it buffered already and complete at once: the timer is
                        // armed only for a read that has to wait on the backend.
                        var pending = body.ReadAsync(buffer.AsMemory(0, readSize), readToken);
                        if (pending.IsCompleted || stalled is null)
                        {
                            read = await pending.ConfigureAwait(false);
                        }
                        else
                        {
                            stalled.CancelAfter(period);
                            read = await pending.ConfigureAwait(false);
                            stalled.CancelAfter(Timeout.InfiniteTimeSpan);
                        }
                    }
                    catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
                    {
                        return await AbortResponseAsync(context, pool, result, ex, stalled?.IsCancellationRequested == true && !aborted.IsCancellationRequested).ConfigureAwait(false);
                    }

                    if (read == 0)
                    {
                        break;
                    }

                    try
                    {
                        await outgoing.Body.WriteAsync(buffer.AsMemory(0, read), aborted).ConfigureAwait(false);
                        capture?.Append(buffer.AsSpan(0, read));
                    }
                    catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
                    {
                        // The client went away; disposing the response stops the backend transfer.
                        Log.ClientDisconnected(_logger, context.Request.Method, context.Request.Path, pool.Name, TraceId(context));
                        return BackendOutcome.Canceled;
                    }
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);

            // Unlinked first, so a client leaving later cannot cancel the source once another response holds it.
            link.Dispose();
            if (stalled is not null)
            {
                _bodyTimeouts.Return(stalled);
            }
        }

        CopyTrailers(context, response);
        return backendOutcome;
    }

    private async ValueTask<BackendOutcome> AbortResponseAsync(HttpContext context, ServerPool pool, BalancedResponse result, Exception exception, bool stalled = false, bool backendAtFault = true)
    {
        if (context.RequestAborted.IsCancellationRequested)
        {
            Log.ClientDisconnected(_logger, context.Request.Method, context.Request.Path, pool.Name, TraceId(context));
            return BackendOutcome.Canceled;
        }

        // Headers (and perhaps part of the body) are gone already: the only honest signal left is to break
        // the connection, so the client never takes a truncated body for a complete one.
        Log.ResponseAborted(_logger, context.Request.Method, context.Request.Path, pool.Name, result.Backend?.Id ?? "-", TraceId(context), exception);
        context.Abort();

        // The breaker judged the attempt at its headers; a body that broke afterwards is a failure passive health
        // must see too, or a backend that always dies mid-body would never be ejected.
        var backend = result.Backend!;
        if (backendAtFault && pool.GetBreaker(backend) is { } breaker)
        {
            var error = stalled ? ForwardError.ResponseTimeout : ForwardError.BackendProtocolError;
            await breaker.RecordAsync(new BalancedResponse(null, backend, error, exception, result.Elapsed)).ConfigureAwait(false);
        }

        return stalled ? BackendOutcome.Timeout : BackendOutcome.TransportError;
    }

    private static void CopyTrailers(HttpContext context, HttpResponseMessage response)
    {
        var trailers = response.TrailingHeaders;
        if (!trailers.NonValidated.GetEnumerator().MoveNext() || !context.Response.SupportsTrailers())
        {
            return;
        }

        foreach (var header in trailers.NonValidated)
        {
            context.Response.AppendTrailer(header.Key, ToStringValues(header.Value));
        }
    }

    private static void CopyResponseHeaders(System.Net.Http.Headers.HttpHeaders source, IHeaderDictionary destination)
    {
        HashSet<string>? connectionTokens = null;
        if (source.NonValidated.TryGetValues(HeaderNames.Connection, out var connection))
        {
            connectionTokens = ProxyHeaders.ParseConnectionTokens(connection);
        }

        foreach (var header in source.NonValidated)
        {
            var name = header.Key;
            if (ProxyHeaders.IsHopByHop(name) || (connectionTokens is not null && connectionTokens.Contains(name)))
            {
                continue;
            }

            destination[name] = ToStringValues(header.Value);
        }
    }

    /// <summary>Answers a request that got no backend response (or logs that the client left) and says how it ended.</summary>
    private async Task<FinishedRequest> WriteFailureAsync(HttpContext context, ServerPool pool, BalancedResponse result, Exception? readFailure, long start)
    {
        var error = result.Error;
        if (error == ForwardError.Canceled || context.RequestAborted.IsCancellationRequested)
        {
            Log.ClientDisconnected(_logger, context.Request.Method, context.Request.Path, pool.Name, TraceId(context));
            return FinishedRequest.Failed(result.Backend, ForwardError.Canceled);
        }

        // A body read that failed on the client's side is the client's fault, whatever the handler made of it.
        if (readFailure is not null)
        {
            error = ForwardError.RequestBodyFailed;
        }

        var (status, detail) = error switch
        {
            ForwardError.NoAvailableBackend => (StatusCodes.Status503ServiceUnavailable, "No backend is available to serve this request."),
            ForwardError.ConnectTimeout => (StatusCodes.Status504GatewayTimeout, "The backend could not be reached in time."),
            ForwardError.ResponseTimeout => (StatusCodes.Status504GatewayTimeout, "The backend did not answer in time."),
            ForwardError.RequestBodyFailed => (BodyFailureStatus(readFailure ?? result.Exception), "The request body could not be read."),
            ForwardError.ConnectFailed => (StatusCodes.Status502BadGateway, "The backend could not be reached."),
            _ => (StatusCodes.Status502BadGateway, "The backend failed to answer."),
        };

        var elapsed = _timeProvider.GetElapsedTime(start).TotalMilliseconds;
        Log.ForwardFailed(_logger, context.Request.Method, context.Request.Path, pool.Name, result.Backend?.Id ?? "-", error, status, elapsed, TraceId(context), result.Exception);
        var finished = FinishedRequest.Failed(result.Backend, error);
        if (context.Response.HasStarted)
        {
            context.Abort();
            return finished;
        }

        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            context.Response.Headers.RetryAfter = "1";
        }

        await ProblemResponse.WriteAsync(context, status, detail).ConfigureAwait(false);
        return finished;
    }

    private static int BodyFailureStatus(Exception? readFailure) => readFailure switch
    {
        BadHttpRequestException bad => bad.StatusCode,
        OperationCanceledException => StatusCodes.Status408RequestTimeout,
        _ => StatusCodes.Status400BadRequest,
    };

    private void LogForwarded(HttpContext context, ServerPool pool, BackendState backend, int status, ForwardingSettings settings, long start)
    {
        var level = settings.LogLevel;
        if (level == LogLevel.None || !_logger.IsEnabled(level))
        {
            return;
        }

        var elapsed = _timeProvider.GetElapsedTime(start).TotalMilliseconds;
        Log.RequestForwarded(_logger, level, context.Request.Method, context.Request.Path.Value ?? "/", pool.Name, backend.Id, status, elapsed, TraceId(context));
    }

    private static string TraceId(HttpContext context)
        => Activity.Current?.TraceId.ToHexString() ?? context.TraceIdentifier;

    private static void AddHeader(System.Net.Http.Headers.HttpHeaders headers, string name, StringValues values)
    {
        if (values.Count == 1)
        {
            headers.TryAddWithoutValidation(name, values.ToString());
        }
        else
        {
            headers.TryAddWithoutValidation(name, ToEnumerable(values));
        }
    }

    private static string[] ToEnumerable(StringValues values) => values.ToArray()!;

    private static StringValues ToStringValues(System.Net.Http.Headers.HeaderStringValues values)
    {
        if (values.Count == 1)
        {
            foreach (var value in values)
            {
                return value;
            }
        }

        var array = new string[values.Count];
        var i = 0;
        foreach (var value in values)
        {
            array[i++] = value;
        }

        return array;
    }
}
