namespace Balancing;

/// <summary>
/// The result of <see cref="BalancedSender.SendAsync(IServerPool, HttpRequestMessage, BalancingContext, CancellationToken)"/>: the backend's response, or why there is none.
/// </summary>
/// <remarks>
/// When <see cref="Response"/> is set the caller owns it: it must dispose it and call <see cref="Complete"/>
/// exactly once, after the response body has been consumed, so the backend's in-flight count stays right.
/// </remarks>
public readonly struct BalancedResponse
{
    internal BalancedResponse(HttpResponseMessage? response, BackendState? backend, ForwardError error, Exception? exception, TimeSpan elapsed)
    {
        Response = response;
        Backend = backend;
        Error = error;
        Exception = exception;
        Elapsed = elapsed;
    }

    /// <summary>Gets the backend's response, or <see langword="null"/> when <see cref="Error"/> says why there is none.</summary>
    public HttpResponseMessage? Response { get; }

    /// <summary>Gets the backend that was tried last, or <see langword="null"/> if none was chosen.</summary>
    public BackendState? Backend { get; }

    /// <summary>Gets why there is no response, or <see cref="ForwardError.None"/>.</summary>
    public ForwardError Error { get; }

    /// <summary>Gets the exception behind <see cref="Error"/>, if any.</summary>
    public Exception? Exception { get; }

    /// <summary>Gets the time from sending the request to receiving the response headers (or the failure).</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>Reports that the response body has been consumed (or abandoned) and how the exchange ended.</summary>
    /// <param name="outcome">How the exchange ended from the backend's point of view.</param>
    public void Complete(BackendOutcome outcome)
    {
        if (Response is not null)
        {
            Backend?.RequestCompleted(outcome);
        }
    }
}
