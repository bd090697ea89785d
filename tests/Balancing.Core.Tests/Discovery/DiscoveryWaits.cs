using Balancing.Pools;

namespace Balancing.Core.Tests.Discovery;

/// <summary>Waits for discovery to change a pool, on the registry's event (the first DNS lookup runs off the caller's thread).</summary>
internal static class DiscoveryWaits
{
    public static async Task<ServerPool> WaitForPoolAsync(this ServerPoolRegistry registry, string pool, Func<ServerPool, bool> condition)
    {
        var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(object? sender, IReadOnlyCollection<string> pools)
        {
            if (registry.GetPool(pool) is { } found && condition(found))
            {
                changed.TrySetResult();
            }
        }

        registry.BackendsChanged += OnChanged;
        try
        {
            if (registry.GetPool(pool) is not { } now || !condition(now))
            {
                await changed.Task.WaitAsync(TimeSpan.FromSeconds(10));
            }

            return registry.GetPool(pool)!;
        }
        finally
        {
            registry.BackendsChanged -= OnChanged;
        }
    }
}
