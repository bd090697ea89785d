using Balancing.Health;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Balancing.Forwarding;

/// <summary>
/// A pool's failover rules, compiled once per configuration: a Polly pipeline (total timeout, then retry with
/// exponential backoff and jitter) plus what the retry predicate needs to decide whether a repeat is safe.
/// </summary>
internal sealed class RetryPolicy
{
    /// <summary>Carries the per-request state into the pipeline's predicate and callbacks without a closure.</summary>
    public static readonly ResiliencePropertyKey<AttemptState> StateKey = new("Balancing.AttemptState");

    private RetryPolicy(RetryOptions options, HealthStatusCodes statusCodes, ResiliencePipeline<BalancedResponse> pipeline, ResiliencePipeline<BalancedResponse>? followUp)
    {
        StatusCodes = statusCodes;
        BudgetRatio = options.BudgetRatio;
        MinRetryConcurrency = options.MinRetryConcurrency;
        MaxAttempts = options.MaxAttempts;
        Delay = options.Delay;
        HasTotalTimeout = options.TotalTimeout is { } total && total != Timeout.InfiniteTimeSpan;
        Pipeline = pipeline;
        FollowUp = followUp;
    }

    public int MaxAttempts { get; }

    public TimeSpan Delay { get; }

    /// <summary>Gets a value indicating whether a total timeout bounds all attempts (then the whole exchange runs in <see cref="Pipeline"/>).</summary>
    public bool HasTotalTimeout { get; }

    /// <summary>
    /// Gets the pipeline for the attempts after a failed first one, when the first ran outside Polly (no total timeout):
    /// the happy path then costs nothing but the attempt itself. <see langword="null"/> when only one retry is allowed.
    /// </summary>
    public ResiliencePipeline<BalancedResponse>? FollowUp { get; }

    public HealthStatusCodes StatusCodes { get; }

    public double BudgetRatio { get; }

    public int MinRetryConcurrency { get; }

    public ResiliencePipeline<BalancedResponse> Pipeline { get; }

    /// <summary>Builds the policy, or returns <see langword="null"/> when the pool does not retry.</summary>
    public static RetryPolicy? Create(RetryOptions options, TimeProvider timeProvider)
    {
        if (!options.Enabled || options.MaxAttempts <= 1)
        {
            return null;
        }

        // Validated already: an unparsable list would have stopped the configuration from being applied.
        var codes = HealthStatusCodes.Parse(options.RetryOnStatusCodes, allowEmpty: true);
        var builder = new ResiliencePipelineBuilder<BalancedResponse> { TimeProvider = timeProvider };
        if (options.TotalTimeout is { } total && total != Timeout.InfiniteTimeSpan)
        {
            builder.AddTimeout(new TimeoutStrategyOptions { Timeout = total });
        }

        builder.AddRetry(RetryStrategy(options, options.MaxAttempts - 1));
        ResiliencePipeline<BalancedResponse>? followUp = null;
        if (options.MaxAttempts > 2)
        {
            followUp = new ResiliencePipelineBuilder<BalancedResponse> { TimeProvider = timeProvider }
                .AddRetry(RetryStrategy(options, options.MaxAttempts - 2))
                .Build();
        }

        return new RetryPolicy(options, codes, builder.Build(), followUp);
    }

    private static RetryStrategyOptions<BalancedResponse> RetryStrategy(RetryOptions options, int maxRetryAttempts)
        => new()
        {
            MaxRetryAttempts = maxRetryAttempts,
            Delay = options.Delay,
            MaxDelay = options.MaxDelay,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = options.Delay > TimeSpan.Zero,
            ShouldHandle = static args => ValueTask.FromResult(
                args.Context.Properties.TryGetValue(StateKey, out var state) && state.ShouldRetry(args.Outcome)),
            OnRetry = static args =>
            {
                if (args.Context.Properties.TryGetValue(StateKey, out var state))
                {
                    state.OnRetry(args.Outcome);
                }

                return default;
            },
        };

    /// <summary>Methods whose repetition has the same effect as one request (RFC 9110 §9.2.2).</summary>
    public static bool IsIdempotent(HttpMethod method)
        => method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Options
        || method == HttpMethod.Trace || method == HttpMethod.Put || method == HttpMethod.Delete;
}
