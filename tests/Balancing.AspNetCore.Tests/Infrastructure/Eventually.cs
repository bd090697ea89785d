namespace Balancing.AspNetCore.Tests.Infrastructure;

/// <summary>Waits for state that another thread sets at the end of a request (a counter, a log line), with a deadline.</summary>
internal static class Eventually
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    public static async Task TrueAsync(Func<bool> condition, TimeSpan? patience = null)
    {
        using var timeout = new CancellationTokenSource(patience ?? Patience);
        while (!condition())
        {
            await Task.Yield();
            timeout.Token.ThrowIfCancellationRequested();
        }
    }

    /// <summary>
    /// Waits for a condition that takes work to observe (a round of requests whose outcome is the condition), checking
    /// it again and again until it holds or <paramref name="patience"/> runs out.
    /// </summary>
    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan patience)
    {
        using var timeout = new CancellationTokenSource(patience);
        while (!await condition())
        {
            timeout.Token.ThrowIfCancellationRequested();
        }
    }
}
