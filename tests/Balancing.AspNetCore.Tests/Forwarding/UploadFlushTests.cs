using System.Net;
using System.Text;
using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Balancing.AspNetCore.Tests.Forwarding;

/// <summary>
/// A body without a declared length may be a conversation: the backend must see each piece while the client still
/// holds the rest back. A body with a length is a transfer: it reaches the backend whole either way.
/// </summary>
[TestClass]
public sealed class UploadFlushTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [TestMethod]
    public async Task ChunkedUpload_FirstPieceReachesTheBackendBeforeTheClientSendsTheRest()
    {
        var firstPieceSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await TestBackend.StartAsync("b1", async context =>
        {
            var buffer = new byte[5];
            var read = 0;
            while (read < buffer.Length)
            {
                read += await context.Request.Body.ReadAsync(buffer.AsMemory(read));
            }

            firstPieceSeen.TrySetResult();
            var rest = await new StreamReader(context.Request.Body).ReadToEndAsync();
            await context.Response.WriteAsync(Encoding.ASCII.GetString(buffer) + rest);
        });
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend));

        using var content = new TwoPieceContent("hello", " world", firstPieceSeen.Task.WaitAsync(Patience));
        using var response = await balancer.Client.PostAsync("/talk", content);

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual("hello world", await response.Content.ReadAsStringAsync());
        Assert.IsTrue(firstPieceSeen.Task.IsCompletedSuccessfully, "the backend read the first piece before the second was sent");
    }

    /// <summary>Sends a first piece, waits for a signal, then sends the second; no declared length, so it goes chunked.</summary>
    private sealed class TwoPieceContent(string first, string second, Task between) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(first));
            await stream.FlushAsync();
            await between;
            await stream.WriteAsync(Encoding.ASCII.GetBytes(second));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }
}
