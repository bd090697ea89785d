namespace Balancing.Statistics;

/// <summary>
/// Counts events per second over the last minute: a ring of one-second buckets, the current one and the 60 before it.
/// </summary>
/// <remarks>
/// Any thread adds to the current bucket with one <see cref="Interlocked"/> operation, without a lock or an allocation.
/// One thread at a time (the statistics clock, under its lock) moves to the next second and sums completed buckets. A
/// window is made of completed seconds only, so its figures are final and move once a second; what happens during the
/// current second shows after the next tick.
/// </remarks>
internal sealed class SlidingCounter
{
    /// <summary>The longest window, in seconds, that <see cref="Sum"/> can cover.</summary>
    public const int Seconds = 60;

    private const int Slots = Seconds + 1;

    private readonly long[] _counts = new long[Slots];
    private int _current;

    /// <summary>Adds one event to the current second.</summary>
    public void Increment() => Interlocked.Increment(ref _counts[Volatile.Read(ref _current)]);

    /// <summary>Adds <paramref name="count"/> events to the current second.</summary>
    public void Add(long count) => Interlocked.Add(ref _counts[Volatile.Read(ref _current)], count);

    /// <summary>Gets the events counted so far in the current, incomplete second.</summary>
    public long Current => Interlocked.Read(ref _counts[Volatile.Read(ref _current)]);

    /// <summary>Closes the current second and starts the next one, forgetting the second that falls out of the ring.</summary>
    /// <returns>The count of the second that closed.</returns>
    public long Advance()
    {
        var ended = _current;
        var next = ended + 1 == Slots ? 0 : ended + 1;

        // Nobody adds to the next bucket until it is published below: writers read the index first.
        Interlocked.Exchange(ref _counts[next], 0);
        Volatile.Write(ref _current, next);
        return Interlocked.Read(ref _counts[ended]);
    }

    /// <summary>Sums the <paramref name="seconds"/> most recent completed seconds.</summary>
    /// <param name="seconds">From 1 to <see cref="Seconds"/>.</param>
    public long Sum(int seconds)
    {
        var slot = _current;
        long sum = 0;
        for (var i = 0; i < seconds; i++)
        {
            slot = slot == 0 ? Slots - 1 : slot - 1;
            sum += Interlocked.Read(ref _counts[slot]);
        }

        return sum;
    }
}
