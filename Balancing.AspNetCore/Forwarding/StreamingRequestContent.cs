using System.IO.Pipelines;
using System.Net;

namespace Balancing.AspNetCore.Forwarding;

/// <summary>
/// Streams the client's request body to the backend as it arrives, straight from the server's receive buffers; nothing is
/// held whole. A failure to read from the client is reported as <see cref="RequestBodyReadException"/>
/// so it is blamed on the client, not the backend.
/// </summary>
internal sealed class StreamingRequestContent : HttpContent, Balancing.Forwarding.IActivityTrackingContent
{
    private readonly PipeReader _source;
    private readonly CancellationToken _clientAborted;
    private int _started;
    private CancellationTokenSource? _activityTimeout;
    private TimeSpan _activityPeriod;

    public StreamingRequestContent(PipeReader source, CancellationToken clientAborted)
    {
        _source = source;
        _clientAborted = clientAborted;
    }

    public void TrackActivity(CancellationTokenSource? timeout, TimeSpan period)
    {
        _activityPeriod = period;
        Volatile.Write(ref _activityTimeout, timeout);
    }

    /// <summary>Gets a value indicating whether any of the body was sent.</summary>
    public bool Started => Volatile.Read(ref _started) != 0;

    /// <summary>Gets the exception that reading from the client raised, if any.</summary>
    public Exception? ReadFailure { get; private set; }

    public bool ReadFailed => ReadFailure is not null;

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            // The client's body is a one-way stream: it cannot be sent twice.
            throw new InvalidOperationException("The request body was already sent and cannot be replayed.");
        }

        // The body is written to the backend straight from the server's receive buffers: no copy of our own,
        // no buffer to rent, whatever the body's size.
        var readToken = GetReadToken(cancellationToken);
        while (true)
        {
            ReadResult result;
            try
            {
                result = await _source.ReadAsync(readToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // Reads run under the activity timeout and the client's abort only, so whatever ends one is the
                // client's doing: it went away, sent a bad body, or stalled while the backend waited.
                ReadFailure = ex;
                throw new RequestBodyReadException("Reading the request body from the client failed.", ex);
            }

            var buffer = result.Buffer;
            try
            {
                if (!buffer.IsEmpty)
                {
                    // A piece arrived from the client: the exchange is making progress.
                    ReportActivity();
                    foreach (var segment in buffer)
                    {
                        await stream.WriteAsync(segment, cancellationToken).ConfigureAwait(false);
                    }

                    // Flush each piece so that streaming protocols (server-sent uploads, gRPC) make progress.
                    await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                _source.AdvanceTo(buffer.End);
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                break;
            }
        }
    }

    /// <summary>
    /// Reads from the client run under the balancer's activity timeout (which the client's abort also cancels),
    /// so a client that stalls mid-body cannot hold the exchange open after the timeout fired: the handler does
    /// not give up on a send while its content is still being produced.
    /// </summary>
    private CancellationToken GetReadToken(CancellationToken sendToken)
    {
        var timeout = Volatile.Read(ref _activityTimeout);
        if (timeout is not null)
        {
            try
            {
                return timeout.Token;
            }
            catch (ObjectDisposedException)
            {
                // The exchange already ended.
            }
        }

        return sendToken.CanBeCanceled ? sendToken : _clientAborted;
    }

    private void ReportActivity()
    {
        var timeout = Volatile.Read(ref _activityTimeout);
        if (timeout is null)
        {
            return;
        }

        try
        {
            timeout.CancelAfter(_activityPeriod);
        }
        catch (ObjectDisposedException)
        {
            // The exchange ended while this piece was in flight; there is nothing left to time.
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        // The length, when the client declared one, travels as a copied Content-Length header.
        length = -1;
        return false;
    }

    protected override Task<Stream> CreateContentReadStreamAsync()
        => throw new NotSupportedException("A streamed request body can only be forwarded, not read.");
}
