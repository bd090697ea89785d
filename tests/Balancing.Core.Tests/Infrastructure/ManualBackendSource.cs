using Microsoft.Extensions.Primitives;

namespace Balancing.Tests;

/// <summary>
/// A backend source whose backends of pool <c>default</c> the test announces; each announcement fires the previous
/// snapshot's token. Shared by the engine and end-to-end tests (linked into both projects).
/// </summary>
internal sealed class ManualBackendSource : IBackendSource, IDisposable
{
    private readonly Lock _lock = new();
    private CancellationTokenSource _changed = new();
    private DiscoveredBackend[] _backends = [];

    public void Announce(params DiscoveredBackend[] backends)
    {
        CancellationTokenSource fired;
        lock (_lock)
        {
            _backends = backends;
            fired = _changed;
            _changed = new CancellationTokenSource();
        }

        fired.Cancel();
    }

    public BackendSnapshot GetSnapshot()
    {
        lock (_lock)
        {
            return new BackendSnapshot(
                new Dictionary<string, IReadOnlyList<DiscoveredBackend>> { ["default"] = _backends },
                new CancellationChangeToken(_changed.Token));
        }
    }

    public void Dispose() => _changed.Dispose();
}
