namespace Balancing.Forwarding;

/// <summary>Feeds each attempt's time to response headers into the backend's peak-EWMA latency estimate.</summary>
internal static class LatencySamples
{
    public static void Record(BackendState backend, in BalancedResponse result, PeakEwmaOptions options, TimeProvider timeProvider)
    {
        switch (result.Error)
        {
            case ForwardError.None:
                // Any response, 5xx included: its latency is real. Passive health is what answers to its status.
                backend.RecordLatency(result.Elapsed, options.DecayTime, timeProvider);
                break;

            case ForwardError.ConnectFailed or ForwardError.ConnectTimeout or ForwardError.ResponseTimeout or ForwardError.BackendProtocolError:
                // A failure never makes a backend look faster (a refused connection "answers" in microseconds and would
                // draw traffic to a dead backend). It counts as at least the current estimate, which also keeps the
                // estimate from decaying while the backend keeps failing; a timeout counts as the long wait it was.
                var floor = backend.LatencyEstimate ?? options.DefaultLatency;
                backend.RecordLatency(result.Elapsed > floor ? result.Elapsed : floor, options.DecayTime, timeProvider);
                break;

            default:
                // Canceled by the client, or its body failed: nothing learnt about the backend.
                break;
        }
    }
}
