using System.Globalization;
using Balancing.AspNetCore.Caching;
using Balancing.AspNetCore.Diagnostics;
using Balancing.Pools;
using Balancing.Statistics;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using FinishedRequest = Balancing.Diagnostics.FinishedRequest;
using RequestOutcome = Balancing.Diagnostics.RequestOutcome;

namespace Balancing.AspNetCore.Forwarding;

/// <summary>The response cache's part of forwarding: lookup, coalescing, revalidation and storing (docs/CACHING.md).</summary>
internal sealed partial class HttpForwarder
{
    /// <summary>
    /// The cache's first look at a request, done without awaiting anything: the URL's base key when the cache should
    /// answer it, or <see langword="null"/> when the request takes the ordinary path (not a GET or HEAD, or a GET for a URL
    /// whose last response was not stored). Most requests to an uncacheable URL end here.
    /// </summary>
    private string? CacheKeyOf(HttpContext context, ServerPool pool, ForwardingSettings settings)
    {
        var request = context.Request;
        var isHead = HttpMethods.IsHead(request.Method);
        if (!isHead && !HttpMethods.IsGet(request.Method))
        {
            return null;
        }

        var baseKey = ResponseCache.BaseKey(pool.Name, request, GetPathAndQuery(context));

        // A URL whose last response was not stored takes the ordinary path until its mark expires: coalescing would only
        // queue its requests behind one another, and judging each response for storage would be work thrown away. The
        // mark holds the URL's slot, so there is nothing stored to find, and the request's own directives do not matter.
        if (!isHead && _cache.IsUncacheable(settings.Source.Caching, baseKey, _timeProvider.GetUtcNow()))
        {
            _metrics.CacheRequest(pool.Name, CacheCounts.Bypass);
            return null;
        }

        return baseKey;
    }

    /// <summary>
    /// Answers a GET or HEAD through the cache: from a fresh stored response, by waiting for an identical request already
    /// in flight, or by sending it (revalidating a stale stored response when it has validators) and storing the answer.
    /// </summary>
    /// <remarks><paramref name="baseKey"/> is the request's key from <see cref="CacheKeyOf"/>.</remarks>
    /// <returns>How the request ended, or <see langword="null"/> when the cache leaves it to the ordinary path.</returns>
    private async Task<FinishedRequest?> ForwardThroughCacheAsync(HttpContext context, ServerPool pool, ForwardingSettings settings, string baseKey, long start)
    {
        var request = context.Request;
        var isHead = HttpMethods.IsHead(request.Method);
        var options = settings.Source.Caching;
        var directives = CachePolicy.ReadRequest(request);

        // A GET with a body is outside what a cache can key on; it takes the ordinary path, body buffering included.
        if (directives.Bypass || request.ContentLength > 0 || request.Headers.ContainsKey(HeaderNames.TransferEncoding))
        {
            _metrics.CacheRequest(pool.Name, CacheCounts.Bypass);
            return null;
        }

        var target = GetPathAndQuery(context);
        var now = _timeProvider.GetUtcNow();
        var stored = await _cache.FindAsync(options, baseKey, request.Headers, context.RequestAborted).ConfigureAwait(false);
        if (stored is not null && !directives.NoCache && stored.Freshness.IsFresh(now, directives.MaxAge))
        {
            _metrics.CacheRequest(pool.Name, CacheCounts.Hit);
            return await ServeStoredAsync(context, pool, stored, now).ConfigureAwait(false);
        }

        if (isHead)
        {
            // A HEAD response has no body to store; HEAD is only ever answered from a stored GET.
            _metrics.CacheRequest(pool.Name, CacheCounts.Miss);
            return null;
        }

        // The key of the flight is the URL's: the variant a response belongs to is known only once it arrives, so a
        // waiter checks that the shared response matches its own request headers before using it.
        if (_cache.TryLead(baseKey, out var flight))
        {
            CachedResponse? result = null;
            try
            {
                (var finished, result) = await FetchAsync(context, pool, settings, options, baseKey, target, stored, directives, start).ConfigureAwait(false);
                return finished;
            }
            finally
            {
                flight.Complete(result);
            }
        }

        CachedResponse? shared;
        try
        {
            shared = await _cache.WaitAsync(flight, context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Log.ClientDisconnected(_logger, request.Method, request.Path, pool.Name, TraceId(context));
            return FinishedRequest.Failed(null, ForwardError.Canceled);
        }

        if (shared is not null && shared.Key == ResponseCache.KeyFor(baseKey, shared.Vary, request.Headers))
        {
            _metrics.CacheRequest(pool.Name, CacheCounts.Coalesced);
            return await ServeStoredAsync(context, pool, shared, _timeProvider.GetUtcNow()).ConfigureAwait(false);
        }

        // The leader got nothing this request may share (not storable, another variant, a failure): it goes itself, and
        // what it gets is stored if it may be (another variant, say).
        return (await FetchAsync(context, pool, settings, options, baseKey, target, stored, directives, start).ConfigureAwait(false)).Finished;
    }

    /// <summary>Sends the request for the cache and relays the answer, storing it when RFC 9111 allows; returns what was stored.</summary>
    private async Task<(FinishedRequest Finished, CachedResponse? Stored)> FetchAsync(
        HttpContext context, ServerPool pool, ForwardingSettings settings, CachingOptions options, string baseKey, string target, CachedResponse? stored, RequestDirectives directives, long start)
    {
        using var message = CreateRequest(context, pool, settings, out var content);
        var revalidating = stored is not null && stored.Freshness.HasValidators;
        if (revalidating)
        {
            // The cache asks about its own copy; the client's conditions, if any, are judged against that copy afterwards.
            message.Headers.Remove(HeaderNames.IfNoneMatch);
            message.Headers.Remove(HeaderNames.IfModifiedSince);
            if (stored!.Freshness.ETag is { } etag)
            {
                message.Headers.TryAddWithoutValidation(HeaderNames.IfNoneMatch, etag);
            }

            if (stored.Freshness.LastModified is { } lastModified)
            {
                message.Headers.TryAddWithoutValidation(HeaderNames.IfModifiedSince, lastModified);
            }
        }

        var requestTime = _timeProvider.GetUtcNow();
        var result = await SendBalancedAsync(context, pool, settings, message, target, out var affinity, out var pin).ConfigureAwait(false);
        if (result.Response is not { } response)
        {
            if (stored is not null && result.Error != ForwardError.Canceled && stored.Freshness.MayStandInForError(_timeProvider.GetUtcNow()))
            {
                return (await ServeStaleAsync(context, pool, stored, result.Error.ToString()).ConfigureAwait(false), null);
            }

            return (await WriteFailureAsync(context, pool, result, content?.ReadFailure, start).ConfigureAwait(false), null);
        }

        if (stored is not null && CachePolicy.IsErrorForStale((int)response.StatusCode) && stored.Freshness.MayStandInForError(_timeProvider.GetUtcNow()))
        {
            // The backend answered, with an error the stored response may stand in for: it is judged like any 5xx.
            using (response)
            {
                result.Complete(BackendOutcome.FailureStatus);
            }

            return (await ServeStaleAsync(context, pool, stored, ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false), null);
        }

        affinity?.OnServed(context, pin, result.Backend!);
        using (response)
        {
            var responseTime = _timeProvider.GetUtcNow();
            var status = (int)response.StatusCode;
            var headers = CachePolicy.StorableHeaders(response, out var age);
            if (revalidating && status == StatusCodes.Status304NotModified)
            {
                return await RefreshAsync(context, pool, settings, options, baseKey, stored!, headers, age, requestTime, responseTime, directives, result, start).ConfigureAwait(false);
            }

            _metrics.CacheRequest(pool.Name, CacheCounts.Miss);
            var freshness = CachePolicy.Evaluate(status, headers, age, requestTime, responseTime, directives.HasAuthorization, out var vary);
            var declared = response.Content.Headers.ContentLength;
            var capture = freshness is not null && !(declared > options.MaxEntrySize) ? new ResponseCapture(options.MaxEntrySize, declared) : null;

            var outcome = await CopyResponseAsync(context, pool, result, response, capture).ConfigureAwait(false);
            result.Complete(outcome);
            var relayed = outcome is BackendOutcome.Success or BackendOutcome.FailureStatus;
            if (relayed)
            {
                LogForwarded(context, pool, result.Backend!, status, settings, start);
            }

            CachedResponse? entry = null;
            if (relayed && capture is not null && capture.TryGetBody(out var body) && !HasTrailers(response))
            {
                entry = new CachedResponse(status, headers, body, freshness!, vary, ResponseCache.KeyFor(baseKey, vary, context.Request.Headers));
                _cache.Set(options, baseKey, entry);
            }
            else
            {
                if (stored is not null)
                {
                    // The stored copy is outdated and its replacement was not kept: keeping the old one would only cost memory.
                    _cache.Remove(baseKey);
                }

                if (relayed)
                {
                    // Not storable or too large: the next requests for this URL go to the backend side by side instead of
                    // queueing behind one another.
                    _cache.MarkUncacheable(options, baseKey, responseTime);
                }
            }

            return (FinishedRequest.Relayed(result.Backend, status, outcome), entry);
        }
    }

    /// <summary>Serves a stale stored response in place of a failed refresh (<c>stale-if-error</c>), and says so in the log and metrics.</summary>
    private Task<FinishedRequest> ServeStaleAsync(HttpContext context, ServerPool pool, CachedResponse stored, string failure)
    {
        _metrics.CacheRequest(pool.Name, CacheCounts.Stale);
        Log.ServedStale(_logger, context.Request.Method, context.Request.Path, pool.Name, failure, TraceId(context));
        return ServeStoredAsync(context, pool, stored, _timeProvider.GetUtcNow());
    }

    /// <summary>A 304 to the cache's conditional request: the stored response, with the 304's headers and a new age, is served and kept.</summary>
    private async Task<(FinishedRequest Finished, CachedResponse? Stored)> RefreshAsync(
        HttpContext context, ServerPool pool, ForwardingSettings settings, CachingOptions options, string baseKey, CachedResponse stored,
        KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>[] update, Microsoft.Extensions.Primitives.StringValues age,
        DateTimeOffset requestTime, DateTimeOffset responseTime, RequestDirectives directives, BalancedResponse result, long start)
    {
        _metrics.CacheRequest(pool.Name, CacheCounts.Revalidated);
        result.Complete(BackendOutcome.Success);
        var merged = CachePolicy.Merge(stored.Headers, update);
        var freshness = CachePolicy.Evaluate(stored.StatusCode, merged, age, requestTime, responseTime, directives.HasAuthorization, out _);
        CachedResponse? kept = null;
        CachedResponse served;
        if (freshness is null)
        {
            // The 304 withdrew the permission to store (no-store, private...): answer this request once, then forget it.
            _cache.Remove(baseKey);
            served = stored.WithRevalidation(merged, stored.Freshness with { ResponseTime = responseTime, CorrectedInitialAge = TimeSpan.Zero });
        }
        else
        {
            kept = served = stored.WithRevalidation(merged, freshness);
            _cache.Set(options, baseKey, kept);
        }

        LogForwarded(context, pool, result.Backend!, StatusCodes.Status304NotModified, settings, start);
        var finished = await ServeStoredAsync(context, pool, served, responseTime).ConfigureAwait(false);
        return (finished with { Backend = result.Backend }, kept);
    }

    /// <summary>Writes a stored response with its current <c>Age</c>, or 304 when the client's own validators match it.</summary>
    private async Task<FinishedRequest> ServeStoredAsync(HttpContext context, ServerPool pool, CachedResponse entry, DateTimeOffset now)
    {
        var response = context.Response;
        var notModified = CachePolicy.IsNotModified(context.Request, entry);
        response.StatusCode = notModified ? StatusCodes.Status304NotModified : entry.StatusCode;
        var headers = response.Headers;
        foreach (var (name, values) in entry.Headers)
        {
            // A 304 carries the validators and caching headers, not the description of a body it does not have (RFC 9110 §15.4.5).
            if (notModified && name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            headers[name] = values;
        }

        headers.Age = ((long)entry.Freshness.CurrentAge(now).TotalSeconds).ToString(CultureInfo.InvariantCulture);
        if (notModified || entry.StatusCode is StatusCodes.Status204NoContent)
        {
            return new FinishedRequest(null, response.StatusCode, RequestOutcome.Success);
        }

        response.ContentLength = entry.Body.Length;
        if (HttpMethods.IsHead(context.Request.Method) || entry.Body.Length == 0)
        {
            return new FinishedRequest(null, response.StatusCode, RequestOutcome.Success);
        }

        try
        {
            await response.Body.WriteAsync(entry.Body, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            Log.ClientDisconnected(_logger, context.Request.Method, context.Request.Path, pool.Name, TraceId(context));
            return new FinishedRequest(null, response.StatusCode, RequestOutcome.ClientDisconnected);
        }

        return new FinishedRequest(null, response.StatusCode, RequestOutcome.Success);
    }

    /// <summary>
    /// A successful unsafe request (POST, PUT, DELETE...) may have changed the resource: its stored responses go
    /// (RFC 9111 §4.4).
    /// </summary>
    private void InvalidateAfterUnsafeMethod(HttpContext context, ServerPool pool, in FinishedRequest finished)
    {
        var method = context.Request.Method;
        if (finished.StatusCode is >= 200 and < 400 && !HttpMethods.IsOptions(method) && !HttpMethods.IsTrace(method))
        {
            _cache.Remove(ResponseCache.BaseKey(pool.Name, context.Request, GetPathAndQuery(context)));
        }
    }

    private static bool HasTrailers(HttpResponseMessage response)
        => response.TrailingHeaders.NonValidated.GetEnumerator().MoveNext();
}
