using System.Diagnostics;
using System.Net.Http;
using Balancing.Forwarding;
using Polly;
using Polly.Timeout;
using Balancing.Pools;
using Microsoft.Extensions.Http;

namespace Balancing;

/// <summary>
/// Sends one <see cref="HttpRequestMessage"/> to a backend of a pool chosen by the pool's strategy, through an
/// <see cref="HttpMessageInvoker"/> built by <see cref="IHttpMessageHandlerFactory"/> (so handlers the app adds to
/// the <see cref="LoadBalancerDefaults.HttpClientName"/> client run too). Nothing is buffered: the response is
/// returned as soon as its headers arrive.
/// </summary>
public sealed class BalancedSender
{
    private static readonly UriCreationOptions ExactUri = new() { DangerousDisablePathAndQueryCanonicalization = true };

    private readonly IHttpMessageHandlerFactory _handlerFactory;
    private readonly TimeProvider _timeProvider;
    private readonly TimeoutSourcePool _timeoutSources;
    private HttpMessageInvoker? _invoker;

    /// <summary>Creates the sender.</summary>
    /// <param name="handlerFactory">Builds the handler pipeline for backend connections.</param>
    /// <param name="timeProvider">The clock for timeouts.</param>
    public BalancedSender(IHttpMessageHandlerFactory handlerFactory, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(handlerFactory);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _handlerFactory = handlerFactory;
        _timeProvider = timeProvider;
        _timeoutSources = new TimeoutSourcePool(timeProvider);
    }

    private HttpMessageInvoker Invoker
    {
        get
        {
            // The handler lives as long as the app (its connection pool recycles connections itself),
            // so one invoker is built once and shared.
            var invoker = Volatile.Read(ref _invoker);
            if (invoker is null)
            {
                var created = new HttpMessageInvoker(_handlerFactory.CreateHandler(LoadBalancerDefaults.HttpClientName), disposeHandler: false);
                invoker = Interlocked.CompareExchange(ref _invoker, created, null) ?? created;
            }

            return invoker;
        }
    }

    /// <summary>Chooses a backend of <paramref name="pool"/> and sends <paramref name="request"/> to it.</summary>
    /// <param name="pool">The pool to balance over; must come from this balancer's <see cref="IServerPoolRegistry"/>.</param>
    /// <param name="request">
    /// The request. Its <see cref="HttpRequestMessage.RequestUri"/> is the relative path and query to send
    /// (sent byte for byte after the backend's address); it is replaced by the absolute backend URI.
    /// </param>
    /// <param name="context">What the strategy may know about the request.</param>
    /// <param name="cancellationToken">Cancels the exchange (for example when the client disconnects).</param>
    /// <returns>The response, or why there is none. Never throws for backend or network failures.</returns>
    public ValueTask<BalancedResponse> SendAsync(IServerPool pool, HttpRequestMessage request, BalancingContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(request);
        if (pool is not ServerPool serverPool)
        {
            throw new ArgumentException("The pool must come from the load balancer's IServerPoolRegistry.", nameof(pool));
        }

        var pathAndQuery = request.RequestUri is { IsAbsoluteUri: false } relative ? relative.OriginalString : request.RequestUri?.PathAndQuery ?? "/";
        return SendAsync(serverPool, request, pathAndQuery, context, cancellationToken);
    }

    /// <summary>
    /// Sends <paramref name="request"/> to a backend of <paramref name="serverPool"/>, at the backend's address followed by
    /// <paramref name="pathAndQuery"/> (the forwarder passes the client's raw target, saving a parse of a relative URI).
    /// </summary>
    internal ValueTask<BalancedResponse> SendAsync(ServerPool serverPool, HttpRequestMessage request, string pathAndQuery, BalancingContext context, CancellationToken cancellationToken)
        => context.AffinityBackendId is not null && PinnedBackend.MustStay(serverPool)
            ? SendPinnedAsync(serverPool, request, pathAndQuery, context, cancellationToken)
            : SendCoreAsync(serverPool, request, pathAndQuery, context, cancellationToken);

    /// <summary>A request whose pin must hold: an unreachable pinned backend means "no available backend".</summary>
    private async ValueTask<BalancedResponse> SendPinnedAsync(ServerPool serverPool, HttpRequestMessage request, string pathAndQuery, BalancingContext context, CancellationToken cancellationToken)
        => PinnedBackend.Settle(await SendCoreAsync(serverPool, request, pathAndQuery, context, cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// Chooses how the request is sent, without awaiting anything itself: every asynchronous method a request passes
    /// through allocates its own state when it waits on the network, so the choice adds no level of its own.
    /// </summary>
    private ValueTask<BalancedResponse> SendCoreAsync(ServerPool serverPool, HttpRequestMessage request, string pathAndQuery, BalancingContext context, CancellationToken cancellationToken)
    {
        var policy = serverPool.Retry;
        if (policy is null)
        {
            var backend = Pick(serverPool, context, tried: null);
            return backend is null
                ? ValueTask.FromResult(new BalancedResponse(null, null, ForwardError.NoAvailableBackend, null, TimeSpan.Zero))
                : SendAttemptAsync(serverPool, request, pathAndQuery, backend, 1, cancellationToken, cancellationToken);
        }

        return policy.HasTotalTimeout
            ? SendWithinTotalTimeoutAsync(serverPool, policy, request, pathAndQuery, context, cancellationToken)
            : SendWithFailoverAsync(serverPool, policy, request, pathAndQuery, context, cancellationToken);
    }

    /// <summary>Every attempt inside the retry pipeline, so that the pool's TotalTimeout bounds them all.</summary>
    private async ValueTask<BalancedResponse> SendWithinTotalTimeoutAsync(ServerPool serverPool, RetryPolicy policy, HttpRequestMessage request, string pathAndQuery, BalancingContext context, CancellationToken cancellationToken)
    {
        var state = new AttemptState(this, serverPool, policy, request, pathAndQuery, context, cancellationToken);
        var resilience = ResilienceContextPool.Shared.Get(cancellationToken);
        resilience.Properties.Set(RetryPolicy.StateKey, state);
        serverPool.RequestStarted();
        var start = _timeProvider.GetTimestamp();
        try
        {
            var outcome = await policy.Pipeline.ExecuteOutcomeAsync(
                static async (context, state) => Outcome.FromResult(await state.Sender.AttemptAsync(state, context.CancellationToken).ConfigureAwait(false)),
                resilience,
                state).ConfigureAwait(false);

            if (outcome.Exception is TimeoutRejectedException timedOut)
            {
                // The pool's TotalTimeout ran out between attempts.
                return new BalancedResponse(null, state.LastBackend, ForwardError.ResponseTimeout, timedOut, _timeProvider.GetElapsedTime(start));
            }

            outcome.ThrowIfException();
            return outcome.Result;
        }
        finally
        {
            serverPool.RequestEnded(state.HoldsRetryBudget);
            ResilienceContextPool.Shared.Return(resilience);
        }
    }

    /// <summary>
    /// Failover without a total timeout: the first attempt goes straight to the backend, so a request that succeeds
    /// pays nothing for the retry machinery; only a failed one enters the retry pipeline for the remaining attempts.
    /// </summary>
    private async ValueTask<BalancedResponse> SendWithFailoverAsync(ServerPool serverPool, RetryPolicy policy, HttpRequestMessage request, string pathAndQuery, BalancingContext context, CancellationToken cancellationToken)
    {
        var backend = Pick(serverPool, context, tried: null);
        if (backend is null)
        {
            return new BalancedResponse(null, null, ForwardError.NoAvailableBackend, null, TimeSpan.Zero);
        }

        serverPool.RequestStarted();
        AttemptState? state = null;
        try
        {
            var first = await SendAttemptAsync(serverPool, request, pathAndQuery, backend, 1, cancellationToken, cancellationToken).ConfigureAwait(false);
            if (first.Error == ForwardError.None && (first.Response is null || !policy.StatusCodes.Contains((int)first.Response.StatusCode)))
            {
                return first;
            }

            state = new AttemptState(this, serverPool, policy, request, pathAndQuery, context, cancellationToken) { Attempts = 1 };
            state.Tried.Add(backend);
            var outcome = Outcome.FromResult(first);
            if (!state.ShouldRetry(outcome))
            {
                return first;
            }

            state.OnRetry(outcome);
            if (policy.Delay > TimeSpan.Zero)
            {
                await Task.Delay(policy.Delay, _timeProvider, cancellationToken).ConfigureAwait(false);
            }

            if (policy.FollowUp is null)
            {
                return await AttemptAsync(state, cancellationToken).ConfigureAwait(false);
            }

            var resilience = ResilienceContextPool.Shared.Get(cancellationToken);
            resilience.Properties.Set(RetryPolicy.StateKey, state);
            try
            {
                var rest = await policy.FollowUp.ExecuteOutcomeAsync(
                    static async (context, state) => Outcome.FromResult(await state.Sender.AttemptAsync(state, context.CancellationToken).ConfigureAwait(false)),
                    resilience,
                    state).ConfigureAwait(false);
                rest.ThrowIfException();
                return rest.Result;
            }
            finally
            {
                ResilienceContextPool.Shared.Return(resilience);
            }
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested)
        {
            return new BalancedResponse(null, state?.LastBackend ?? backend, ForwardError.Canceled, ex, TimeSpan.Zero);
        }
        finally
        {
            serverPool.RequestEnded(state?.HoldsRetryBudget == true);
        }
    }

    /// <summary>One attempt: a backend not tried yet (when one exists), a fresh message after the first attempt.</summary>
    internal async ValueTask<BalancedResponse> AttemptAsync(AttemptState state, CancellationToken attemptToken)
    {
        var backend = Pick(state.Pool, state.Context, state.Tried);
        if (backend is null)
        {
            return new BalancedResponse(null, state.LastBackend, ForwardError.NoAvailableBackend, null, TimeSpan.Zero);
        }

        // A message can be sent once; a retry sends a copy that shares the (replayable) content.
        var message = state.Attempts == 0 ? state.Request : CopyForRetry(state.Request);
        state.Attempts++;
        state.Tried.Add(backend);
        return await SendAttemptAsync(state.Pool, message, state.PathAndQuery, backend, state.Attempts, attemptToken, state.CallerToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Lets the strategy choose among the available backends, leaving out those already tried when others remain; a pinned
    /// request's first attempt goes to its pinned backend when that one is available.
    /// </summary>
    private static BackendState? Pick(ServerPool pool, BalancingContext context, List<BackendState>? tried)
    {
        var candidates = pool.AvailableBackends;
        if (candidates.IsEmpty)
        {
            return null;
        }

        // Session affinity: the pinned backend comes before the strategy on the first attempt (one null check otherwise).
        if (context.AffinityBackendId is { } pinned && (tried is null || tried.Count == 0))
        {
            var backend = PinnedBackend.Find(candidates.AsSpan(), pinned);
            if (backend is not null || PinnedBackend.MustStay(pool))
            {
                return backend;
            }
        }

        if (tried is null || tried.Count == 0)
        {
            return pool.Strategy.Pick(candidates.AsSpan(), context);
        }

        var rented = System.Buffers.ArrayPool<BackendState>.Shared.Rent(candidates.Length);
        try
        {
            var count = 0;
            foreach (var candidate in candidates)
            {
                if (!tried.Contains(candidate))
                {
                    rented[count++] = candidate;
                }
            }

            // Every available backend was tried already: going round again beats refusing the request.
            return count == 0
                ? pool.Strategy.Pick(candidates.AsSpan(), context)
                : pool.Strategy.Pick(rented.AsSpan(0, count), context);
        }
        finally
        {
            System.Buffers.ArrayPool<BackendState>.Shared.Return(rented, clearArray: true);
        }
    }

    private static HttpRequestMessage CopyForRetry(HttpRequestMessage original)
    {
        var copy = new HttpRequestMessage(original.Method, (Uri?)null)
        {
            Version = original.Version,
            VersionPolicy = original.VersionPolicy,
            Content = original.Content,
        };

        foreach (var header in original.Headers.NonValidated)
        {
            copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        return copy;
    }

    /// <summary>Sends one attempt, through the backend's circuit breaker when passive health is on.</summary>
    private ValueTask<BalancedResponse> SendAttemptAsync(ServerPool serverPool, HttpRequestMessage request, string pathAndQuery, BackendState backend, int attempt, CancellationToken cancellationToken, CancellationToken callerToken)
    {
        var breaker = serverPool.GetBreaker(backend);
        return breaker is null || !breaker.IsWatching
            ? SendToBackendAsync(serverPool, request, pathAndQuery, backend, attempt, cancellationToken, callerToken, breaker)
            : SendThroughBreakerAsync(breaker, serverPool, request, pathAndQuery, backend, attempt, cancellationToken, callerToken);
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<BalancedResponse> SendThroughBreakerAsync(Passive.BackendBreaker breaker, ServerPool serverPool, HttpRequestMessage request, string pathAndQuery, BackendState backend, int attempt, CancellationToken cancellationToken, CancellationToken callerToken)
    {
        var resilience = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            var outcome = await breaker.Pipeline.ExecuteOutcomeAsync(
                static async (_, s) => Outcome.FromResult(await s.Sender.SendToBackendAsync(s.Pool, s.Request, s.Path, s.Backend, s.Attempt, s.Token, s.Caller).ConfigureAwait(false)),
                resilience,
                (Sender: this, Pool: serverPool, Request: request, Path: pathAndQuery, Backend: backend, Attempt: attempt, Token: cancellationToken, Caller: callerToken)).ConfigureAwait(false);

            if (outcome.Exception is Polly.CircuitBreaker.BrokenCircuitException broken)
            {
                // The breaker refused before anything was sent: as safe to retry elsewhere as a refused connection.
                var refused = new BalancedResponse(null, backend, ForwardError.ConnectFailed, broken, TimeSpan.Zero);
                serverPool.Metrics?.AttemptEnded(serverPool.Name, backend, refused);
                return refused;
            }

            outcome.ThrowIfException();
            return outcome.Result;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(resilience);
        }
    }

    // Sends one attempt under the pool's inactivity timeout. "unwatched" is the backend's breaker when this attempt
    // bypasses its pipeline (BackendBreaker.IsWatching): a failure is fed to it afterwards.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<BalancedResponse> SendToBackendAsync(ServerPool serverPool, HttpRequestMessage request, string pathAndQuery, BackendState backend, int attempt, CancellationToken cancellationToken, CancellationToken callerToken, Passive.BackendBreaker? unwatched = null)
    {
        // The path is appended to the backend's address as text, so it must start the path: "users/1" or
        // ".evil.test/x" glued to "http://b1.test" would otherwise name another host.
        request.RequestUri = pathAndQuery.Length > 0 && (pathAndQuery[0] == '/' || pathAndQuery[0] == '?')
            ? new Uri(string.Concat(backend.AddressPrefix, pathAndQuery), in ExactUri)
            : new Uri(string.Concat(backend.AddressPrefix, "/", pathAndQuery), in ExactUri);
        if (serverPool.HasHostOverrides && !serverPool.Options.PreserveHostHeader)
        {
            // A discovered backend is reached by IP but answers to its name (Host, SNI, certificate). Set on every
            // attempt, cleared for a backend without one: a retry's copy carries the previous attempt's headers.
            request.Headers.Host = backend.Host;
        }

        var period = serverPool.Options.Timeout;
        var tracking = request.Content as IActivityTrackingContent;

        // A streamed body keeps a reference to its timeout source (it pushes it back as pieces move), so only
        // body-less requests borrow a pooled one.
        var timeout = tracking is null ? _timeoutSources.Rent(period) : new CancellationTokenSource(period, _timeProvider);
        var link = TimeoutSourcePool.CancelWith(timeout, cancellationToken);
        tracking?.TrackActivity(timeout, period);
        var activity = Diagnostics.BalancingActivities.StartAttempt(serverPool.Name, backend, attempt);
        var start = _timeProvider.GetTimestamp();
        backend.RequestStarted();
        BalancedResponse result;
        try
        {
            var response = await Invoker.SendAsync(request, timeout.Token).ConfigureAwait(false);
            result = new BalancedResponse(response, backend, ForwardError.None, null, _timeProvider.GetElapsedTime(start));
        }
        catch (Exception ex) when (ex is OperationCanceledException or HttpRequestException)
        {
            var error = tracking?.ReadFailed == true
                ? ForwardError.RequestBodyFailed
                : Classify(ex, callerToken.IsCancellationRequested, timeout.IsCancellationRequested);
            backend.RequestCompleted(ToOutcome(error));
            result = new BalancedResponse(null, backend, error, ex, _timeProvider.GetElapsedTime(start));
        }
        catch (Exception ex)
        {
            // Anything else comes from a handler the app added; release the backend before it propagates.
            backend.RequestCompleted(BackendOutcome.TransportError);
            Diagnostics.BalancingActivities.StopAttempt(activity, ex);
            throw;
        }
        finally
        {
            link.Dispose();
            if (tracking is null)
            {
                _timeoutSources.Return(timeout);
            }
            else
            {
                tracking.TrackActivity(null, period);
                timeout.Dispose();
            }
        }

        LatencySamples.Record(backend, result, serverPool.Options.PeakEwma, _timeProvider);
        serverPool.Metrics?.AttemptEnded(serverPool.Name, backend, result);
        Diagnostics.BalancingActivities.StopAttempt(activity, result);
        if (unwatched is not null)
        {
            await unwatched.RecordAsync(result).ConfigureAwait(false);
        }

        return result;
    }

    internal static ForwardError Classify(Exception exception, bool callerCanceled, bool timedOut)
    {
        if (callerCanceled)
        {
            return ForwardError.Canceled;
        }

        if (exception is OperationCanceledException)
        {
            // SocketsHttpHandler reports its ConnectTimeout as a cancellation wrapping a TimeoutException.
            return exception.InnerException is TimeoutException && !timedOut ? ForwardError.ConnectTimeout : ForwardError.ResponseTimeout;
        }

        if (exception is HttpRequestException http)
        {
            if (http.InnerException is TimeoutException)
            {
                return ForwardError.ConnectTimeout;
            }

            if (http.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError)
            {
                return ForwardError.ConnectFailed;
            }

            if (FindBodyReadFailure(http) is not null)
            {
                return ForwardError.RequestBodyFailed;
            }
        }

        return ForwardError.BackendProtocolError;
    }

    internal static BackendOutcome ToOutcome(ForwardError error) => error switch
    {
        ForwardError.None => BackendOutcome.Success,
        ForwardError.ConnectTimeout or ForwardError.ResponseTimeout => BackendOutcome.Timeout,
        ForwardError.Canceled or ForwardError.RequestBodyFailed or ForwardError.NoAvailableBackend => BackendOutcome.Canceled,
        _ => BackendOutcome.TransportError,
    };

    private static RequestBodyReadException? FindBodyReadFailure(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is RequestBodyReadException found)
            {
                return found;
            }
        }

        return null;
    }
}

/// <summary>
/// Thrown by request content to say that reading the body from the client failed, so the failure is
/// blamed on the client (400) and not on the backend (502).
/// </summary>
public sealed class RequestBodyReadException : IOException
{
    /// <summary>Creates the exception.</summary>
    public RequestBodyReadException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    public RequestBodyReadException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The read failure.</param>
    public RequestBodyReadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
