using System.Buffers;
using System.Net;

namespace Balancing.AspNetCore.Forwarding;

/// <summary>
/// Streams the client's request body to the backend as it arrives, through one pooled buffer; nothing is
/// held whole. A failure to read from the client is reported as <see cref="RequestBodyReadException"/>
/// so it is blamed on the client, not the backend.
/// </summary>
internal sealed class StreamingRequestContent : HttpContent, Balancing.Forwarding.IActivityTrackingContent
{
    private const int BufferSize = 64 * 1024;
    private readonly Stream _source;
    private readonly CancellationToken _clientAborted;
    private readonly bool _flushEachPiece;
    private int _started;
    private CancellationTokenSource? _activityTimeout;
    private TimeSpan _activityPeriod;

    public StreamingRequestContent(Stream source, CancellationToken clientAborted, bool flushEachPiece = true)
    {
        _source = source;
        _clientAborted = clientAborted;
        _flushEachPiece = flushEachPiece;
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

        var readToken = GetReadToken(cancellationToken);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                int read;
                try
                {
                    read = await _source.ReadAsync(buffer.AsMemory(0, BufferSize), readToken).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    // Reads run under the activity timeout and the client's abort only, so whatever ends one is the
                    // client's doing: it went away, sent a bad body, or stalled while the backend waited.
                    ReadFailure = ex;
                    throw new RequestBodyReadException("Reading the request body from the client failed.", ex);
                }

                if (read == 0)
                {
                    break;
                }

                // A piece arrived from the client: the exchange is making progress.
                ReportActivity();
                await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);

                // Streaming protocols (chunked uploads the backend answers as they go, gRPC) need each piece on its
                // way at once; a body of known length is flushed by the client stack when it is complete.
                if (_flushEachPiece)
                {
                    await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
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
