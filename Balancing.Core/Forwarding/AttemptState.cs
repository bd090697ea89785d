using Balancing.Pools;
using Polly;

namespace Balancing.Forwarding;

/// <summary>One request's way through the retry pipeline: the template, the backends tried, the budget held.</summary>
internal sealed class AttemptState
{
    public AttemptState(BalancedSender sender, ServerPool pool, RetryPolicy policy, HttpRequestMessage request, string pathAndQuery, BalancingContext context, CancellationToken callerToken)
    {
        Sender = sender;
        Pool = pool;
        Policy = policy;
        Request = request;
        PathAndQuery = pathAndQuery;
        Context = context;
        CallerToken = callerToken;
    }

    public BalancedSender Sender { get; }

    public ServerPool Pool { get; }

    public RetryPolicy Policy { get; }

    public HttpRequestMessage Request { get; }

    public string PathAndQuery { get; }

    public BalancingContext Context { get; }

    public CancellationToken CallerToken { get; }

    public List<BackendState> Tried { get; } = new(2);

    public int Attempts { get; set; }

    public bool HoldsRetryBudget { get; private set; }

    public BackendState? LastBackend => Tried.Count == 0 ? null : Tried[^1];

    /// <summary>Decides whether the outcome of an attempt may be repeated on another backend.</summary>
    public bool ShouldRetry(Outcome<BalancedResponse> outcome)
    {
        if (CallerToken.IsCancellationRequested || outcome.Exception is not null)
        {
            return false;
        }

        // A pin that must hold (SessionAffinity:OnUnavailable = Fail) is never moved to another backend.
        if (Context.AffinityBackendId is not null && PinnedBackend.MustStay(Pool))
        {
            return false;
        }

        var result = outcome.Result;
        var safe = result.Error switch
        {
            // Nothing reached a backend: any method may go elsewhere, as long as none of its body was consumed.
            ForwardError.ConnectFailed or ForwardError.ConnectTimeout => BodyUntouched(),

            // The backend may have acted on it: only a body-less idempotent request is repeated.
            ForwardError.BackendProtocolError or ForwardError.ResponseTimeout => IsReplayableIdempotent(),

            // The backend answered, but with a status that says "not me, not now".
            ForwardError.None => result.Response is { } response
                && Policy.StatusCodes.Contains((int)response.StatusCode)
                && IsReplayableIdempotent(),

            _ => false,
        };

        return safe && Pool.HasRetryBudget(Policy);
    }

    /// <summary>Releases a failed attempt before the next one starts.</summary>
    public void OnRetry(Outcome<BalancedResponse> outcome)
    {
        var result = outcome.Result;
        Pool.Metrics?.Retried(Pool.Name, result);
        if (result.Response is { } response)
        {
            result.Complete(BackendOutcome.FailureStatus);
            response.Dispose();
        }

        if (!HoldsRetryBudget)
        {
            HoldsRetryBudget = true;
            Pool.RetryStarted();
        }
    }

    // A body held in memory (ByteArrayContent) can be sent again; a streamed one cannot.
    private bool IsReplayableIdempotent()
        => Request.Content is null or ByteArrayContent && RetryPolicy.IsIdempotent(Request.Method);

    private bool BodyUntouched() => Request.Content switch
    {
        null => true,
        IActivityTrackingContent streamed => !streamed.Started,
        ByteArrayContent or ReadOnlyMemoryContent => true,
        _ => false,
    };
}
