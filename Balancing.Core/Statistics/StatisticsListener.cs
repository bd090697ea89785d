using System.Diagnostics.Metrics;

namespace Balancing.Statistics;

/// <summary>
/// Listens to the <c>Balancing</c> meter of one container and feeds its measurements to a <see cref="StatisticsStore"/>.
/// </summary>
/// <remarks>
/// A <see cref="MeterListener"/> sees the instruments of every meter in the process, and an app (or a test run) may hold
/// several containers, each with its own <c>Balancing</c> meter. Meters made by an <see cref="IMeterFactory"/> carry
/// that factory as their <see cref="Meter.Scope"/>, so the listener takes only the instruments whose meter came from its
/// own container's factory. Without a factory it takes meters that have no scope.
/// </remarks>
internal sealed class StatisticsListener : IDisposable
{
    private static readonly object RequestDurationKind = new();
    private static readonly object RetriesKind = new();
    private static readonly object EjectionsKind = new();
    private static readonly object RateLimitedKind = new();
    private static readonly object CacheKind = new();

    private readonly MeterListener _listener;
    private readonly object? _scope;
    private readonly StatisticsStore _store;

    /// <param name="scope">The container's <see cref="IMeterFactory"/>, or <see langword="null"/> when it has none.</param>
    /// <param name="store">Receives the measurements.</param>
    public StatisticsListener(object? scope, StatisticsStore store)
    {
        _scope = scope;
        _store = store;
        _listener = new MeterListener { InstrumentPublished = OnInstrumentPublished };
        _listener.SetMeasurementEventCallback<double>(OnDoubleMeasurement);
        _listener.SetMeasurementEventCallback<long>(OnLongMeasurement);
        _listener.Start();
    }

    /// <summary>Reads the observable instruments the statistics take (the cache's running totals) into the store.</summary>
    public void Observe() => _listener.RecordObservableInstruments();

    public void Dispose() => _listener.Dispose();

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        if (instrument.Meter.Name != BalancingInstruments.MeterName || !ReferenceEquals(instrument.Meter.Scope, _scope))
        {
            return;
        }

        var kind = instrument.Name switch
        {
            BalancingInstruments.RequestDuration => RequestDurationKind,
            BalancingInstruments.Retries => RetriesKind,
            BalancingInstruments.Ejections => EjectionsKind,
            BalancingInstruments.RateLimitRejections => RateLimitedKind,
            BalancingInstruments.CacheRequests => CacheKind,
            _ => null,
        };
        if (kind is not null)
        {
            listener.EnableMeasurementEvents(instrument, kind);
        }
    }

    private void OnDoubleMeasurement(Instrument instrument, double measurement, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (!ReferenceEquals(state, RequestDurationKind))
        {
            return;
        }

        string? pool = null, backend = null, statusClass = null, outcome = null;
        foreach (var tag in tags)
        {
            switch (tag.Key)
            {
                case BalancingInstruments.PoolTag:
                    pool = tag.Value as string;
                    break;
                case BalancingInstruments.BackendTag:
                    backend = tag.Value as string;
                    break;
                case BalancingInstruments.StatusClassTag:
                    statusClass = tag.Value as string;
                    break;
                case BalancingInstruments.OutcomeTag:
                    outcome = tag.Value as string;
                    break;
            }
        }

        if (pool is not null)
        {
            _store.RecordRequest(pool, backend, measurement, BalancingInstruments.IsError(outcome, statusClass));
        }
    }

    private void OnLongMeasurement(Instrument instrument, long measurement, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (measurement <= 0)
        {
            return;
        }

        if (ReferenceEquals(state, CacheKind))
        {
            OnCacheMeasurement(measurement, tags);
            return;
        }

        if (!(ReferenceEquals(state, RetriesKind) || ReferenceEquals(state, EjectionsKind) || ReferenceEquals(state, RateLimitedKind)))
        {
            return;
        }

        string? pool = null, backend = null;
        foreach (var tag in tags)
        {
            if (tag.Key == BalancingInstruments.PoolTag)
            {
                pool = tag.Value as string;
            }
            else if (tag.Key == BalancingInstruments.BackendTag)
            {
                backend = tag.Value as string;
            }
        }

        if (pool is null)
        {
            return;
        }

        if (ReferenceEquals(state, RetriesKind))
        {
            _store.RecordRetries(pool, measurement);
        }
        else if (ReferenceEquals(state, RateLimitedKind))
        {
            _store.RecordRateLimited(pool, measurement);
        }
        else
        {
            _store.RecordEjections(pool, backend, measurement);
        }
    }

    private void OnCacheMeasurement(long measurement, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? pool = null, result = null;
        foreach (var tag in tags)
        {
            if (tag.Key == BalancingInstruments.PoolTag)
            {
                pool = tag.Value as string;
            }
            else if (tag.Key == BalancingInstruments.ResultTag)
            {
                result = tag.Value as string;
            }
        }

        if (pool is not null && result is not null)
        {
            _store.RecordCacheTotal(pool, result, measurement);
        }
    }
}
