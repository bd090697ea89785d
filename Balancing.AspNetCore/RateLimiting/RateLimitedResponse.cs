using System.Globalization;
using System.Threading.RateLimiting;
using Balancing.AspNetCore.Forwarding;
using Microsoft.AspNetCore.Http;
using FinishedRequest = Balancing.Diagnostics.FinishedRequest;

namespace Balancing.AspNetCore.RateLimiting;

/// <summary>The forwarder's rate-limit step: takes the client's permit, or answers 429 with <c>Retry-After</c>.</summary>
internal static class RateLimitedResponse
{
    /// <summary>
    /// Takes a permit for the request. Returns the lease to hold until the request ends (none when the request is not
    /// limited) and, when the request must go no further, how it ended: refused (429 written) or abandoned by its client
    /// while it waited in the queue.
    /// </summary>
    public static ValueTask<(RateLimitLease? Lease, FinishedRequest? Refused)> CheckAsync(ClientRateLimiting limiting, HttpContext context, ForwardingSettings settings, string? route)
    {
        // Nearly every request is decided at once and allowed: no asynchronous call for it.
        if (limiting.TryAcquireNow(context, settings, route, out var decided) && decided is null or { IsAcquired: true })
        {
            return ValueTask.FromResult<(RateLimitLease?, FinishedRequest?)>((decided, null));
        }

        return CheckSlowlyAsync(limiting, context, settings, route, decided);
    }

    /// <summary>The rest of <see cref="CheckAsync"/>: waits for a permit unless <paramref name="decided"/> is a refusal already, and answers 429 for a refusal.</summary>
    private static async ValueTask<(RateLimitLease? Lease, FinishedRequest? Refused)> CheckSlowlyAsync(ClientRateLimiting limiting, HttpContext context, ForwardingSettings settings, string? route, RateLimitLease? decided)
    {
        var lease = decided;
        try
        {
            lease ??= await limiting.AcquireAsync(context, settings, route, context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return (null, FinishedRequest.Failed(null, ForwardError.Canceled));
        }

        if (lease is null || lease.IsAcquired)
        {
            return (lease, null);
        }

        using (lease)
        {
            context.Response.Headers.RetryAfter = RetryAfterSeconds(lease).ToString(CultureInfo.InvariantCulture);
            await ProblemResponse.WriteAsync(context, StatusCodes.Status429TooManyRequests, "Too many requests from this client; retry after the time in Retry-After.").ConfigureAwait(false);
        }

        return (null, FinishedRequest.RateLimited);
    }

    /// <summary>The limiter's estimate of when a permit is available again, in whole seconds rounded up, at least 1.</summary>
    public static long RetryAfterSeconds(RateLimitLease lease)
        => lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) && retryAfter > TimeSpan.Zero
            ? Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds))
            : 1;
}
