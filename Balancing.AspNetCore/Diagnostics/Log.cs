using Microsoft.Extensions.Logging;

namespace Balancing.AspNetCore.Diagnostics;

/// <summary>Log messages of the ASP.NET Core front door; event ids 100-199 (see docs/OPERATIONS.md).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 100, EventName = "RequestForwarded",
        Message = "{Method} {Path} -> {Pool}/{Backend} {StatusCode} in {ElapsedMilliseconds:0.0} ms (trace {TraceId})")]
    public static partial void RequestForwarded(ILogger logger, LogLevel level, string method, string path, string pool, string backend, int statusCode, double elapsedMilliseconds, string traceId);

    [LoggerMessage(EventId = 101, EventName = "ForwardFailed", Level = LogLevel.Warning,
        Message = "{Method} {Path} -> {Pool}/{Backend} failed with {Error}; answered {StatusCode} after {ElapsedMilliseconds:0.0} ms (trace {TraceId})")]
    public static partial void ForwardFailed(ILogger logger, string method, string path, string pool, string backend, ForwardError error, int statusCode, double elapsedMilliseconds, string traceId, Exception? exception);

    [LoggerMessage(EventId = 102, EventName = "ClientDisconnected", Level = LogLevel.Debug,
        Message = "{Method} {Path} -> {Pool}: the client went away before the response was complete (trace {TraceId})")]
    public static partial void ClientDisconnected(ILogger logger, string method, string path, string pool, string traceId);

    [LoggerMessage(EventId = 103, EventName = "ResponseAborted", Level = LogLevel.Warning,
        Message = "{Method} {Path} -> {Pool}/{Backend}: the backend's response broke after it had started; the client connection was aborted (trace {TraceId})")]
    public static partial void ResponseAborted(ILogger logger, string method, string path, string pool, string backend, string traceId, Exception exception);

    [LoggerMessage(EventId = 104, EventName = "PoolNotFound", Level = LogLevel.Warning,
        Message = "Pool {Pool} is not configured; answered 503")]
    public static partial void PoolNotFound(ILogger logger, string pool);

    [LoggerMessage(EventId = 105, EventName = "NoRouteMatched", Level = LogLevel.Debug,
        Message = "{Method} {Host}{Path}: no route matches; answered 404")]
    public static partial void NoRouteMatched(ILogger logger, string method, string host, string path);

    [LoggerMessage(EventId = 106, EventName = "ServedStale", Level = LogLevel.Warning,
        Message = "{Method} {Path} -> {Pool}: the backend failed ({Failure}); answered with the stored response, stale within its stale-if-error allowance (trace {TraceId})")]
    public static partial void ServedStale(ILogger logger, string method, string path, string pool, string failure, string traceId);

    [LoggerMessage(EventId = 110, EventName = "WebSocketIdle", Level = LogLevel.Debug,
        Message = "WebSocket {Path} -> {Pool}/{Backend} carried nothing for {IdleSeconds} s; both sides were closed (trace {TraceId})")]
    public static partial void WebSocketIdle(ILogger logger, string path, string pool, string backend, double idleSeconds, string traceId);

    [LoggerMessage(EventId = 130, EventName = "RequestRefused", Level = LogLevel.Debug,
        Message = "{Method} {Path} -> {Pool}: refused with {StatusCode} before any backend was tried: {Reason} (trace {TraceId})")]
    public static partial void RequestRefused(ILogger logger, string method, string path, string pool, int statusCode, string reason, string traceId);
}
