using System.Net;

namespace Balancing.Client;

/// <summary>
/// The body of a response returned to an <see cref="HttpClient"/> caller. It reads through to the backend's body and
/// reports the end of the exchange (<see cref="BalancedResponse.Complete"/>) exactly once: when the body has been read
/// to its end, when reading it fails, or when the response is disposed, whichever comes first. Until then the
/// exchange counts as in flight on its backend, as a forwarded one does until its body has been copied.
/// </summary>
internal sealed class BalancedResponseContent : HttpContent
{
    private readonly HttpContent _inner;
    private readonly BalancedResponse _result;
    private readonly BackendOutcome _outcome;
    private int _completed;

    public BalancedResponseContent(HttpContent inner, BalancedResponse result, BackendOutcome outcome)
    {
        _inner = inner;
        _result = result;
        _outcome = outcome;
        foreach (var header in inner.Headers.NonValidated)
        {
            Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
    }

    /// <summary>Reports how the exchange ended, the first time only.</summary>
    public void Complete(BackendOutcome outcome)
    {
        if (Interlocked.Exchange(ref _completed, 1) == 0)
        {
            _result.Complete(outcome);
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        try
        {
            await _inner.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
        {
            Complete(BackendOutcome.TransportError);
            throw;
        }

        Complete(_outcome);
    }

    protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

    protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken)
        => new CompletingStream(await _inner.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), this, _outcome);

    protected override bool TryComputeLength(out long length)
    {
        // The backend's Content-Length, when it sent one, was copied with the other headers.
        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();

            // Disposed before the end of the body: the backend answered, so its status decides the outcome.
            Complete(_outcome);
        }

        base.Dispose(disposing);
    }

    /// <summary>The backend's body stream; the end of it, or a failure reading it, completes the exchange.</summary>
    private sealed class CompletingStream(Stream inner, BalancedResponseContent owner, BackendOutcome outcome) : Stream
    {
        public override bool CanRead => inner.CanRead;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int read;
            try
            {
                read = inner.Read(buffer);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException)
            {
                owner.Complete(BackendOutcome.TransportError);
                throw;
            }

            Ended(read, buffer.Length);
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int read;
            try
            {
                read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
            {
                owner.Complete(BackendOutcome.TransportError);
                throw;
            }

            Ended(read, buffer.Length);
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                // Putting the body down ends the exchange, whether or not the response itself is disposed.
                inner.Dispose();
                owner.Complete(outcome);
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync().ConfigureAwait(false);
            owner.Complete(outcome);
            await base.DisposeAsync().ConfigureAwait(false);
        }

        private void Ended(int read, int requested)
        {
            // A zero-length read of a non-empty buffer is the end of the body.
            if (read == 0 && requested > 0)
            {
                owner.Complete(outcome);
            }
        }
    }
}
