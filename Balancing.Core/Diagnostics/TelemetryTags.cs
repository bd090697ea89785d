using System.Globalization;

namespace Balancing.Diagnostics;

/// <summary>
/// The tag names and every tag value the instruments use. Values are interned strings chosen from small fixed sets, so
/// recording a measurement builds no string and the number of series stays bounded: pools and backends come from
/// configuration, never the path, the client's address or anything else the client controls.
/// </summary>
internal static class TelemetryTags
{
    public const string Pool = "pool";
    public const string Backend = "backend";
    public const string StatusClass = "status_class";
    public const string Outcome = "outcome";
    public const string Reason = "reason";
    public const string Result = "result";
    public const string Route = "route";

    /// <summary>No backend was tried, or no backend response (the balancer answered itself).</summary>
    public const string None = "none";

    public const string Success = "success";
    public const string Pass = "pass";
    public const string Fail = "fail";

    // Indexed by RequestOutcome (and so by ForwardError for its values).
    private static readonly string[] Outcomes =
    [
        Success,
        "no_available_backend",
        "connect_failed",
        "connect_timeout",
        "response_timeout",
        "backend_protocol_error",
        "request_body_failed",
        "canceled",
        "client_disconnected",
        "response_aborted",
        "pool_not_found",
        "internal_error",
        "rate_limited",
        "refused",
    ];

    private static readonly string[] StatusClasses = [None, "1xx", "2xx", "3xx", "4xx", "5xx"];

    // Retry reasons for retried status codes ("status_503"), made on first use: the codes come from configuration.
    private static readonly string?[] StatusReasons = new string?[600];

    /// <summary>Every value of the <c>outcome</c> tag of the request instruments, for documentation and tests.</summary>
    public static IReadOnlyList<string> AllOutcomes => Outcomes;

    public static string OutcomeOf(RequestOutcome outcome) => (uint)outcome < (uint)Outcomes.Length ? Outcomes[(int)outcome] : Outcomes[(int)RequestOutcome.InternalError];

    public static string OutcomeOf(ForwardError error) => OutcomeOf((RequestOutcome)error);

    /// <summary><c>1xx</c> to <c>5xx</c>, or <c>none</c> for 0 (no backend response) and anything out of range.</summary>
    public static string StatusClassOf(int statusCode) => statusCode is >= 100 and < 600 ? StatusClasses[statusCode / 100] : None;

    /// <summary>
    /// Why a retry happened: the previous attempt's error (<c>connect_failed</c>...), or <c>status_NNN</c> when it
    /// answered a status listed in <c>Retry:RetryOnStatusCodes</c>.
    /// </summary>
    public static string RetryReasonOf(in BalancedResponse previous)
    {
        if (previous.Error != ForwardError.None || previous.Response is null)
        {
            return OutcomeOf(previous.Error);
        }

        var status = (int)previous.Response.StatusCode;
        if ((uint)status >= (uint)StatusReasons.Length)
        {
            return "status_other";
        }

        // A race builds the same string twice at worst.
        return StatusReasons[status] ??= "status_" + status.ToString(CultureInfo.InvariantCulture);
    }

    public static string BackendOf(BackendState? backend) => backend?.Id ?? None;
}
