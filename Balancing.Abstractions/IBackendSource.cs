namespace Balancing;

/// <summary>
/// Supplies backends to the balancer's pools from somewhere other than static configuration: DNS, Consul, Kubernetes
/// endpoints. Register one with <c>AddLoadBalancer().AddBackendSource&lt;T&gt;()</c>.
/// </summary>
/// <remarks>
/// <para>
/// The balancer calls <see cref="GetSnapshot"/> once at start-up and again each time the previous snapshot's
/// <see cref="BackendSnapshot.ChangeToken"/> fires, the way YARP reads an <c>IProxyConfigProvider</c>. A source that
/// learns of a change builds a new snapshot and fires the token of the old one; the balancer then reads the new one and
/// applies it to each pool it names, atomically per pool. The token must raise callbacks
/// (<see cref="Microsoft.Extensions.Primitives.IChangeToken.ActiveChangeCallbacks"/>): a
/// <see cref="Microsoft.Extensions.Primitives.CancellationChangeToken"/> over a token the source cancels is the usual choice.
/// </para>
/// <para>
/// A snapshot lists backends by pool name. Pools and their settings (strategy, health checks, timeouts) still come from
/// configuration: the backends of a pool that is not configured are ignored. A discovered backend joins the backends
/// configured for its pool and is an ordinary backend everywhere (strategies, health checks, statistics, metrics).
/// A backend that appears in consecutive snapshots with the same id, address and host keeps its
/// <see cref="BackendState"/> (in-flight count, health, breaker); one that disappears leaves the pool, and its requests
/// in flight finish.
/// </para>
/// <para>
/// <see cref="GetSnapshot"/> is called under the balancer's configuration lock: it should return what the source already
/// knows, without waiting for the network.
/// </para>
/// </remarks>
public interface IBackendSource
{
    /// <summary>Gets the backends the source knows now, and the token that fires when they change.</summary>
    /// <returns>The current snapshot; never <see langword="null"/>.</returns>
    BackendSnapshot GetSnapshot();
}
