namespace Balancing.AspNetCore.Caching;

/// <summary>
/// Keeps a copy of a response body as it streams to the client, up to a limit: past it (or past the declared length) the
/// copy is dropped and the rest streams on without being held, so a large body is never buffered twice.
/// </summary>
internal sealed class ResponseCapture
{
    private readonly long _limit;
    private readonly long? _declaredLength;
    private byte[]? _buffer;
    private int _length;

    /// <param name="limit">The most bytes to keep (<c>Caching:MaxEntrySize</c>).</param>
    /// <param name="declaredLength">The body's <c>Content-Length</c>, if it declared one (and it is within the limit).</param>
    public ResponseCapture(long limit, long? declaredLength)
    {
        _limit = limit;
        _declaredLength = declaredLength;
        _buffer = declaredLength is { } length && length <= limit
            ? new byte[length]
            : declaredLength is null ? new byte[Math.Min(limit, 4096)] : null;
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        if (_buffer is null)
        {
            return;
        }

        var needed = (long)_length + data.Length;
        if (needed > _limit || needed > (_declaredLength ?? long.MaxValue))
        {
            _buffer = null;
            return;
        }

        if (needed > _buffer.Length)
        {
            Array.Resize(ref _buffer, (int)Math.Min(_limit, Math.Max(_buffer.Length * 2L, needed)));
        }

        data.CopyTo(_buffer.AsSpan(_length));
        _length = (int)needed;
    }

    /// <summary>Gets the whole body, when all of it was kept and it is as long as it declared.</summary>
    public bool TryGetBody(out byte[] body)
    {
        body = [];
        if (_buffer is null || (_declaredLength is { } declared && _length != declared))
        {
            return false;
        }

        body = _length == _buffer.Length ? _buffer : _buffer.AsSpan(0, _length).ToArray();
        return true;
    }
}
