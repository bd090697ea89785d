using Microsoft.Extensions.Logging;

namespace Balancing.Diagnostics;

/// <summary>The log messages of error-rate monitoring (events 260-269).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 260, EventName = "BackendErrorRateHigh", Level = LogLevel.Warning,
        Message = "Backend {BackendId} in pool {Pool} failed {Errors} of {Requests} requests in the last {WindowSeconds} s, an error rate of {ErrorRate:0.###}, at or above the threshold of {Threshold}")]
    public static partial void BackendErrorRateHigh(ILogger logger, string backendId, string pool, long errors, long requests, int windowSeconds, double errorRate, double threshold);

    [LoggerMessage(EventId = 261, EventName = "BackendErrorRateRecovered", Level = LogLevel.Information,
        Message = "Backend {BackendId} in pool {Pool} is back below the error rate threshold of {Threshold}: {Errors} of {Requests} requests failed in the last {WindowSeconds} s")]
    public static partial void BackendErrorRateRecovered(ILogger logger, string backendId, string pool, double threshold, long errors, long requests, int windowSeconds);

    [LoggerMessage(EventId = 262, EventName = "PoolErrorRateHigh", Level = LogLevel.Warning,
        Message = "Pool {Pool} failed {Errors} of {Requests} requests in the last {WindowSeconds} s, an error rate of {ErrorRate:0.###}, at or above the threshold of {Threshold}")]
    public static partial void PoolErrorRateHigh(ILogger logger, string pool, long errors, long requests, int windowSeconds, double errorRate, double threshold);

    [LoggerMessage(EventId = 263, EventName = "PoolErrorRateRecovered", Level = LogLevel.Information,
        Message = "Pool {Pool} is back below the error rate threshold of {Threshold}: {Errors} of {Requests} requests failed in the last {WindowSeconds} s")]
    public static partial void PoolErrorRateRecovered(ILogger logger, string pool, double threshold, long errors, long requests, int windowSeconds);
}
