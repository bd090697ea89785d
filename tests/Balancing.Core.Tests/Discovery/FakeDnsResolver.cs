using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Balancing.Discovery;

namespace Balancing.Core.Tests.Discovery;

/// <summary>A resolver that answers at once from what the test set: addresses, or a failure.</summary>
internal sealed class FakeDnsResolver : IDnsResolver
{
    private readonly ConcurrentDictionary<string, Func<AddressFamily, IPAddress[]>> _answers = new(StringComparer.OrdinalIgnoreCase);
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public FakeDnsResolver Answer(string host, params string[] addresses)
    {
        var parsed = addresses.Select(IPAddress.Parse).ToArray();
        _answers[host] = family => [.. parsed.Where(a => family == AddressFamily.Unspecified || a.AddressFamily == family)];
        return this;
    }

    public FakeDnsResolver Fail(string host)
    {
        _answers[host] = _ => throw new SocketException((int)SocketError.HostNotFound);
        return this;
    }

    public Task<IPAddress[]> ResolveAsync(string host, AddressFamily family, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        try
        {
            return Task.FromResult(_answers.TryGetValue(host, out var answer) ? answer(family) : []);
        }
        catch (SocketException ex)
        {
            return Task.FromException<IPAddress[]>(ex);
        }
    }
}
