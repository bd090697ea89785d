using System.Collections.Concurrent;

namespace Balancing.Forwarding;

/// <summary>
/// Reuses the per-request timeout sources. A fresh <see cref="CancellationTokenSource"/> with a delay costs a source,
/// a timer and a timer-queue insertion and removal for every request; a reset one only re-arms its timer.
/// </summary>
/// <remarks>
/// Only sources nobody else can still hold are returned: the sender returns a source after its registration on the
/// caller's token is disposed, and never for a request whose streamed body kept a reference to it.
/// </remarks>
internal sealed class TimeoutSourcePool
{
    private const int MaxPooled = 1024;
    private readonly ConcurrentQueue<CancellationTokenSource> _pool = new();
    private readonly TimeProvider _timeProvider;
    private int _count;

    public TimeoutSourcePool(TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
    }

    /// <summary>Gets a source that cancels after <paramref name="delay"/>.</summary>
    public CancellationTokenSource Rent(TimeSpan delay)
    {
        if (_pool.TryDequeue(out var source))
        {
            Interlocked.Decrement(ref _count);
            source.CancelAfter(delay);
            return source;
        }

        return new CancellationTokenSource(delay, _timeProvider);
    }

    /// <summary>
    /// Cancels <paramref name="source"/> when <paramref name="token"/> is cancelled, without flowing the execution context
    /// (a linked source would cost an allocation per request). Dispose the registration before returning the source.
    /// </summary>
    public static CancellationTokenRegistration CancelWith(CancellationTokenSource source, CancellationToken token)
        => token.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), source);

    /// <summary>Takes back a source that is no longer referenced anywhere else.</summary>
    public void Return(CancellationTokenSource source)
    {
        // TryReset stops the timer and fails for a source that already cancelled, which is then simply dropped.
        if (source.TryReset())
        {
            if (Interlocked.Increment(ref _count) <= MaxPooled)
            {
                _pool.Enqueue(source);
                return;
            }

            Interlocked.Decrement(ref _count);
        }

        source.Dispose();
    }
}
