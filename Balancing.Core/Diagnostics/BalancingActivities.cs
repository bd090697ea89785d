using System.Diagnostics;

namespace Balancing.Diagnostics;

/// <summary>
/// The balancer's spans, on one <see cref="ActivitySource"/> named <see cref="BalancingTelemetry.ActivitySourceName"/>:
/// <c>balancing.attempt</c> for each attempt sent to a backend, <c>balancing.probe</c> for each active health probe.
/// Nothing is created (and nothing allocated) unless a listener samples the source.
/// </summary>
internal static class BalancingActivities
{
    public const string AttemptName = "balancing.attempt";
    public const string ProbeName = "balancing.probe";

    public const string PoolTag = "balancing.pool";
    public const string BackendTag = "balancing.backend";
    public const string AttemptTag = "balancing.attempt";
    public const string OutcomeTag = "balancing.outcome";
    public const string ProbeResultTag = "balancing.probe.result";

    public static readonly ActivitySource Source = new(BalancingTelemetry.ActivitySourceName, typeof(BalancingActivities).Assembly.GetName().Version?.ToString(3));

    // Attempt numbers boxed once: the tag API takes an object.
    private static readonly object[] AttemptNumbers = [.. Enumerable.Range(0, 17).Select(static n => (object)n)];

    /// <summary>
    /// Starts the span of one attempt as a child of the current activity (the server request's, when ASP.NET Core made
    /// one) and makes it current, so the handler that sends the request propagates its context to the backend.
    /// </summary>
    public static Activity? StartAttempt(string pool, BackendState backend, int attempt)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        // A Client span: it is the balancer's call to the backend, the edge between the two services in a trace.
        var activity = Source.StartActivity(AttemptName, ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(PoolTag, pool);
            activity.SetTag(BackendTag, backend.Id);
            activity.SetTag(AttemptTag, (uint)attempt < (uint)AttemptNumbers.Length ? AttemptNumbers[attempt] : attempt);
            activity.SetTag("server.address", backend.Address.Host);
            activity.SetTag("server.port", backend.Address.Port);
        }

        return activity;
    }

    /// <summary>Ends an attempt's span with its outcome; a failure to answer and a 5xx answer mark it as an error.</summary>
    public static void StopAttempt(Activity? activity, in BalancedResponse result)
    {
        if (activity is null)
        {
            return;
        }

        if (activity.IsAllDataRequested)
        {
            activity.SetTag(OutcomeTag, TelemetryTags.OutcomeOf(result.Error));
            if (result.Response is { } response)
            {
                var status = (int)response.StatusCode;
                activity.SetTag("http.response.status_code", status);
                if (status >= 500)
                {
                    activity.SetTag("error.type", status.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    activity.SetStatus(ActivityStatusCode.Error);
                }
            }
            else if (result.Error != ForwardError.None)
            {
                activity.SetTag("error.type", TelemetryTags.OutcomeOf(result.Error));
                activity.SetStatus(ActivityStatusCode.Error, result.Exception?.Message);
            }
        }

        activity.Stop();
    }

    /// <summary>Ends an attempt's span that an exception cut short (one from a handler the app added).</summary>
    public static void StopAttempt(Activity? activity, Exception exception)
    {
        if (activity is null)
        {
            return;
        }

        if (activity.IsAllDataRequested)
        {
            activity.SetTag("error.type", exception.GetType().FullName);
            activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        }

        activity.Stop();
    }

    /// <summary>
    /// Starts the span of one probe. Probes run on their own schedule, not on behalf of a request, so each probe is the
    /// root of its own trace whatever activity the loop happened to inherit.
    /// </summary>
    public static Activity? StartProbe(string pool, BackendState backend)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        // Only this async flow is affected: the caller's own activity is restored when its async method returns.
        Activity.Current = null;
        var activity = Source.StartActivity(ProbeName, ActivityKind.Internal);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(PoolTag, pool);
            activity.SetTag(BackendTag, backend.Id);
            activity.SetTag("server.address", backend.Address.Host);
            activity.SetTag("server.port", backend.Address.Port);
        }

        return activity;
    }

    /// <summary>
    /// Gives a probe's span its verdict (the caller disposes it); a failed probe is an error, described as the probe
    /// described it.
    /// </summary>
    public static void CompleteProbe(Activity? activity, ProbeResult result)
    {
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(ProbeResultTag, result.IsHealthy ? TelemetryTags.Pass : TelemetryTags.Fail);
            if (!result.IsHealthy)
            {
                activity.SetStatus(ActivityStatusCode.Error, result.Description);
            }
        }
    }
}
