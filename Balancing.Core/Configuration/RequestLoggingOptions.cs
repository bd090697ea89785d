using Microsoft.Extensions.Logging;

namespace Balancing;

/// <summary>Settings of the one structured log line written per forwarded request.</summary>
public sealed class RequestLoggingOptions
{
    /// <summary>Gets or sets the level of the line; <see cref="LogLevel.None"/> turns it off.</summary>
    /// <value>The default is <see cref="LogLevel.Information"/>.</value>
    public LogLevel Level { get; set; } = LogLevel.Information;
}
