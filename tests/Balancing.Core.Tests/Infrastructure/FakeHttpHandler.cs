using System.Collections.Concurrent;
using System.Net;

namespace Balancing.Core.Tests.Infrastructure;

/// <summary>A primary handler that answers in process and records what it was asked.</summary>
internal sealed class FakeHttpHandler : HttpMessageHandler
{
    private readonly Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> _respond;
    private int _calls;

    public FakeHttpHandler(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>>? respond = null)
    {
        _respond = respond ?? ((_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)));
    }

    public int Calls => Volatile.Read(ref _calls);

    public ConcurrentQueue<Uri?> RequestUris { get; } = new();

    /// <summary>Completes when the first request reaches the handler.</summary>
    public TaskCompletionSource Called { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A handler that never answers: it waits until the request is cancelled.</summary>
    public static FakeHttpHandler WaitingForCancellation() => new(static async (_, cancellationToken) =>
    {
        await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
        return new HttpResponseMessage(HttpStatusCode.OK);
    });

    /// <summary>A handler that throws <paramref name="exception"/> for every request.</summary>
    public static FakeHttpHandler Throwing(Exception exception) => new((_, _) => Task.FromException<HttpResponseMessage>(exception));

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        RequestUris.Enqueue(request.RequestUri);
        Called.TrySetResult();
        return _respond(request, cancellationToken);
    }
}
