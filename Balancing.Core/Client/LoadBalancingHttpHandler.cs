using System.Net.Http;
using Balancing.Diagnostics;
using Balancing.Pools;

namespace Balancing.Client;

/// <summary>
/// The primary handler of an <see cref="HttpClient"/> that balances over a pool (client-side balancing): a request
/// for <c>http://{pool}/path?query</c> is sent by the <see cref="BalancedSender"/> to a backend the pool's strategy
/// chooses, with the pool's retries, breakers, health and timeouts. There is no proxy hop.
/// </summary>
/// <remarks>
/// It is the primary (innermost) handler because it replaces the connection to one host: the attempts go out through
/// the balancer's own <see cref="LoadBalancerDefaults.HttpClientName"/> connection pool, one per backend. The
/// client's own <see cref="DelegatingHandler"/>s still run, once per call, around all the attempts.
/// </remarks>
internal sealed class LoadBalancingHttpHandler : HttpMessageHandler
{
    private readonly ServerPoolRegistry _registry;
    private readonly BalancedSender _sender;
    private readonly string _poolName;
    private readonly TimeProvider _timeProvider;

    public LoadBalancingHttpHandler(ServerPoolRegistry registry, BalancedSender sender, string poolName, TimeProvider timeProvider)
    {
        _registry = registry;
        _sender = sender;
        _poolName = poolName;
        _timeProvider = timeProvider;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var logical = request.RequestUri;
        if (logical is null || !logical.IsAbsoluteUri || !string.Equals(logical.IdnHost, _poolName, StringComparison.OrdinalIgnoreCase))
        {
            // Not silently sent elsewhere: that request would bypass the pool's health, breakers and retries, and a
            // mistyped pool name would reach whatever host it happens to name.
            throw new InvalidOperationException(
                $"This HttpClient balances over pool '{_poolName}' and only sends requests addressed to it, such as " +
                $"'http://{_poolName}/path'; a request for '{Describe(logical)}' is not. Use another HttpClient for other hosts.");
        }

        // Recorded like a forwarded request, except that it ends with the response headers: the body is the caller's to read.
        var metrics = _registry.Metrics;
        var start = _timeProvider.GetTimestamp();
        var finished = FinishedRequest.Unhandled;
        try
        {
            var pool = _registry.GetPool(_poolName);
            if (pool is null)
            {
                finished = FinishedRequest.PoolNotFound;
                throw new HttpRequestException(HttpRequestError.ConnectionError, $"Pool '{_poolName}' is not configured.");
            }

            var result = await SendToPoolAsync(pool, request, logical, cancellationToken).ConfigureAwait(false);
            if (result.Response is not { } response)
            {
                finished = FinishedRequest.Failed(result.Backend, result.Error);
                throw ToException(result, cancellationToken);
            }

            finished = new FinishedRequest(result.Backend, (int)response.StatusCode, RequestOutcome.Success);
            return Wrap(request, response, result);
        }
        finally
        {
            metrics?.RequestEnded(_poolName, finished, _timeProvider.GetElapsedTime(start));
        }
    }

    private async Task<BalancedResponse> SendToPoolAsync(ServerPool pool, HttpRequestMessage request, Uri logical, CancellationToken cancellationToken)
    {
        // The pool describes its backends, so its protocol settings apply, as they do to forwarded requests.
        request.Version = pool.RequestVersion;
        request.VersionPolicy = pool.Options.VersionPolicy;
        if (pool.Options.PreserveHostHeader && request.Headers.Host is null)
        {
            request.Headers.Host = logical.Authority;
        }

        try
        {
            return await _sender.SendAsync(pool, request, logical.PathAndQuery, new BalancingContext(null), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // The sender points the message at the backend. Put the logical address back: a handler of the app that
            // sends the same message again (a resilience handler's retry) must reach this handler, not one backend.
            request.RequestUri = logical;
        }
    }

    private static HttpResponseMessage Wrap(HttpRequestMessage request, HttpResponseMessage response, BalancedResponse result)
    {
        response.RequestMessage = request;
        response.Content = new BalancedResponseContent(response.Content, result, (int)response.StatusCode >= 500 ? BackendOutcome.FailureStatus : BackendOutcome.Success);
        return response;
    }

    // Scheme and host only: the path and query of a request may carry data that does not belong in an exception message.
    private static string Describe(Uri? uri) => uri switch
    {
        null => "(no address)",
        { IsAbsoluteUri: true } => uri.GetLeftPart(UriPartial.Authority),
        _ => "a relative address (set HttpClient.BaseAddress to http://<pool>/)",
    };

    /// <summary>Turns a failed exchange into the exception an <see cref="HttpClient"/> caller expects.</summary>
    private Exception ToException(BalancedResponse result, CancellationToken cancellationToken)
    {
        var backend = result.Backend is { } b ? $"backend '{b.Id}' ({b.Address})" : "no backend";
        var inner = result.Exception;
        return result.Error switch
        {
            ForwardError.Canceled => new TaskCanceledException("The request was canceled.", inner, cancellationToken),
            ForwardError.NoAvailableBackend => new HttpRequestException(HttpRequestError.ConnectionError, $"Pool '{_poolName}' has no available backend.", inner),
            ForwardError.ConnectFailed => new HttpRequestException(HttpRequestError.ConnectionError, $"Pool '{_poolName}': {backend} could not be reached.", inner),
            ForwardError.ConnectTimeout => new HttpRequestException(HttpRequestError.ConnectionError, $"Pool '{_poolName}': {backend} could not be reached within Connections:ConnectTimeout.", inner),
            ForwardError.ResponseTimeout => new HttpRequestException(HttpRequestError.Unknown, $"Pool '{_poolName}': {backend} did not answer within the pool's Timeout (or Retry:TotalTimeout).", inner),
            ForwardError.RequestBodyFailed => new HttpRequestException(HttpRequestError.Unknown, $"Pool '{_poolName}': the request body could not be sent to {backend}.", inner),
            _ => new HttpRequestException((inner as HttpRequestException)?.HttpRequestError ?? HttpRequestError.Unknown, $"Pool '{_poolName}': {backend} failed to answer.", inner),
        };
    }
}
