using System.Diagnostics;

namespace Balancing.Diagnostics;

/// <summary>
/// The trace-context propagator of the backend handler (<see cref="SocketsHttpHandler.ActivityHeadersPropagator"/>).
/// A forwarded request carries the client's own <c>traceparent</c>/<c>tracestate</c> (and baggage) headers, copied
/// with the others; left in place, they would stop the handler from writing the balancer's context (it never
/// overwrites a header) and the backend would hang its spans off the client's, skipping the balancer. So, when the
/// handler injects the current activity's context, the copies go first and the current context is written once. The
/// client's trace is not lost: ASP.NET Core started the request's activity as a child of it.
/// </summary>
/// <remarks>
/// The app's <see cref="DistributedContextPropagator.Current"/> does the actual work, read at each call, so an app that
/// picks another format (or turns propagation off) is obeyed. With no current activity the handler injects nothing,
/// and the client's headers reach the backend as they were.
/// </remarks>
internal sealed class ProxyTracePropagator : DistributedContextPropagator
{
    public static readonly ProxyTracePropagator Instance = new();

    // The app's propagator and its fields as an array: called for every forwarded request, so the fields are not
    // enumerated through the interface (an enumerator each time) but copied once per propagator the app sets.
    private FieldsOf? _fields;

    private ProxyTracePropagator()
    {
    }

    public override IReadOnlyCollection<string> Fields => Current.Fields;

    public override void Inject(Activity? activity, object? carrier, PropagatorSetterCallback? setter)
    {
        var inner = Current;
        if (carrier is HttpRequestMessage request)
        {
            var fields = Volatile.Read(ref _fields);
            if (fields is null || !ReferenceEquals(fields.Propagator, inner))
            {
                fields = new FieldsOf(inner, [.. inner.Fields]);
                Volatile.Write(ref _fields, fields);
            }

            foreach (var field in fields.Names)
            {
                request.Headers.Remove(field);
            }
        }

        inner.Inject(activity, carrier, setter);
    }

    public override void ExtractTraceIdAndState(object? carrier, PropagatorGetterCallback? getter, out string? traceId, out string? traceState)
        => Current.ExtractTraceIdAndState(carrier, getter, out traceId, out traceState);

    public override IEnumerable<KeyValuePair<string, string?>>? ExtractBaggage(object? carrier, PropagatorGetterCallback? getter)
        => Current.ExtractBaggage(carrier, getter);

    private sealed record FieldsOf(DistributedContextPropagator Propagator, string[] Names);
}
