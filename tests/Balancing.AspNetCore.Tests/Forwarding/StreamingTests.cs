using System.Diagnostics;
using System.Globalization;
using System.Net;
using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Balancing.AspNetCore.Tests.Forwarding;

/// <summary>
/// Bodies far larger than any buffer go through the balancer in both directions, byte for byte, with Content-Length
/// and chunked. Client, balancer and backend all live in this process, so the managed bytes allocated during a
/// transfer bound what every hop together held: a hop that buffered the body whole would allocate at least its size.
/// </summary>
/// <remarks>
/// The size is <see cref="DefaultMebibytes"/> MiB unless <c>BALANCING_STREAM_TEST_MIB</c> says otherwise
/// (<c>BALANCING_STREAM_TEST_MIB=1024</c> for the 1 GiB figure). The figures go to the test output.
/// Not parallelized: <see cref="GC.GetTotalAllocatedBytes(bool)"/> and the working set are process-wide.
/// </remarks>
[TestClass]
[DoNotParallelize]
public sealed class StreamingTests
{
    private const int DefaultMebibytes = 300;
    private const int ChunkSize = 64 * 1024;
    private const long Mebibyte = 1024 * 1024;

    private static readonly long BodySize = ReadBodySize();

    // Room for the buffers of three Kestrel servers and two HttpClient connection pools, and for the garbage the
    // framework itself makes per chunk (measured at about 14 MiB per GiB for each Kestrel-to-HttpClient hop of a
    // download), yet far below the body: one hop holding the body whole allocates at least all of it.
    private static readonly long AllocationBudget = Math.Max(64 * Mebibyte, BodySize / 8);

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [Timeout(300_000, CooperativeCancellation = true)]
    public Task Get_LargeChunkedResponse_StreamsEveryByteWithoutBuffering()
        => AssertDownloadStreamsAsync(declareLength: false);

    [TestMethod]
    [Timeout(300_000, CooperativeCancellation = true)]
    public Task Get_LargeResponseWithContentLength_StreamsEveryByteWithoutBuffering()
        => AssertDownloadStreamsAsync(declareLength: true);

    [TestMethod]
    [Timeout(300_000, CooperativeCancellation = true)]
    public Task Post_LargeChunkedBody_StreamsEveryByteWithoutBuffering()
        => AssertUploadStreamsAsync(declareLength: false);

    [TestMethod]
    [Timeout(300_000, CooperativeCancellation = true)]
    public Task Post_LargeBodyWithContentLength_StreamsEveryByteWithoutBuffering()
        => AssertUploadStreamsAsync(declareLength: true);

    private async Task AssertDownloadStreamsAsync(bool declareLength)
    {
        var cancellationToken = TestContext.CancellationToken;
        await using var backend = await TestBackend.StartAsync("large", context => WritePatternAsync(context, declareLength));
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend));
        using var client = CreateUnhurriedClient(balancer);

        // A small transfer first, so connections, JIT and first-use caches are not counted as the body's.
        await DownloadAsync(client, Mebibyte, declareLength, cancellationToken);
        var probe = MemoryProbe.Start();
        var received = await DownloadAsync(client, BodySize, declareLength, cancellationToken);
        var figures = probe.Stop();
        Report(declareLength ? "download, Content-Length" : "download, chunked", figures);

        Assert.AreEqual(BodySize, received.Length, "bytes received through the balancer");
        Assert.AreEqual(-1, received.FirstMismatch, "offset of the first byte that differs from what the backend sent");
        AssertWithinBudget(figures);
    }

    private async Task AssertUploadStreamsAsync(bool declareLength)
    {
        var cancellationToken = TestContext.CancellationToken;
        BodyPattern? lastReceived = null;
        await using var backend = await TestBackend.StartAsync("sink", async context =>
        {
            var pattern = new BodyPattern();
            var buffer = new byte[ChunkSize];
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                pattern.Verify(buffer.AsSpan(0, read));
            }

            lastReceived = pattern;
            await context.Response.WriteAsync(pattern.Length.ToString(CultureInfo.InvariantCulture), context.RequestAborted);
        });
        var settings = BalancerHost.PoolSettings(backend);
        settings["LoadBalancer:Forwarding:MaxRequestBodySize"] = (16 * 1024 * Mebibyte).ToString(CultureInfo.InvariantCulture);
        await using var balancer = await BalancerHost.StartAsync(settings);
        using var client = CreateUnhurriedClient(balancer);

        await UploadAsync(client, Mebibyte, declareLength, cancellationToken);
        var probe = MemoryProbe.Start();
        var answer = await UploadAsync(client, BodySize, declareLength, cancellationToken);
        var figures = probe.Stop();
        Report(declareLength ? "upload, Content-Length" : "upload, chunked", figures);

        Assert.AreEqual(BodySize.ToString(CultureInfo.InvariantCulture), answer, "bytes the backend counted, as it answered");
        Assert.IsNotNull(lastReceived);
        Assert.AreEqual(BodySize, lastReceived.Length, "bytes the backend received");
        Assert.AreEqual(-1, lastReceived.FirstMismatch, "offset of the first byte that differs from what the client sent");
        var headers = backend.Received.Last().Headers;
        if (declareLength)
        {
            CollectionAssert.AreEqual(new[] { BodySize.ToString(CultureInfo.InvariantCulture) }, headers.GetValueOrDefault("Content-Length"));
        }
        else
        {
            Assert.IsFalse(headers.ContainsKey("Content-Length"), "a chunked upload must not gain a Content-Length");
            CollectionAssert.AreEqual(new[] { "chunked" }, headers.GetValueOrDefault("Transfer-Encoding"));
        }

        AssertWithinBudget(figures);
    }

    private static async Task WritePatternAsync(HttpContext context, bool declareLength)
    {
        var length = long.Parse(context.Request.Query["bytes"].ToString(), CultureInfo.InvariantCulture);
        if (declareLength)
        {
            context.Response.ContentLength = length;
        }

        context.Response.ContentType = "application/octet-stream";
        var pattern = new BodyPattern();
        var buffer = new byte[ChunkSize];
        while (pattern.Length < length)
        {
            var count = (int)Math.Min(ChunkSize, length - pattern.Length);
            pattern.Fill(buffer.AsSpan(0, count));
            await context.Response.Body.WriteAsync(buffer.AsMemory(0, count), context.RequestAborted);
        }
    }

    private static async Task<BodyPattern> DownloadAsync(HttpClient client, long length, bool declareLength, CancellationToken cancellationToken)
    {
        using var response = await client.GetAsync($"/download?bytes={length}", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        if (declareLength)
        {
            Assert.AreEqual(length, response.Content.Headers.ContentLength, "the balancer keeps the backend's Content-Length");
        }
        else
        {
            Assert.IsTrue(response.Headers.TransferEncodingChunked, "the balancer answers a body of unknown length chunked");
            Assert.IsNull(response.Content.Headers.ContentLength);
        }

        var pattern = new BodyPattern();
        var buffer = new byte[ChunkSize];
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            pattern.Verify(buffer.AsSpan(0, read));
        }

        return pattern;
    }

    private static async Task<string> UploadAsync(HttpClient client, long length, bool declareLength, CancellationToken cancellationToken)
    {
        // The stream cannot seek, so without an explicit Content-Length HttpClient sends the body chunked.
        using var content = new StreamContent(new PatternStream(length), ChunkSize);
        if (declareLength)
        {
            content.Headers.ContentLength = length;
        }

        using var response = await client.PostAsync("/upload", content, cancellationToken);
        var answer = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode, answer);
        return answer;
    }

    private static HttpClient CreateUnhurriedClient(BalancerHost balancer)
    {
        // The test's own timeout bounds the transfer; HttpClient's 60 seconds would cut a slow 1 GiB upload short.
        var client = balancer.CreateClient();
        client.Timeout = Timeout.InfiniteTimeSpan;
        return client;
    }

    private void Report(string transfer, MemoryFigures figures)
    {
        static string MiB(long bytes) => (bytes / (double)Mebibyte).ToString("F1", CultureInfo.InvariantCulture);

        var seconds = figures.Elapsed.TotalSeconds;
        TestContext.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{transfer}: {MiB(BodySize)} MiB in {seconds:F1} s ({BodySize / Mebibyte / seconds:F0} MiB/s); managed bytes allocated {MiB(figures.Allocated)} MiB (budget {MiB(AllocationBudget)} MiB); working set {MiB(figures.WorkingSetBefore)} -> {MiB(figures.WorkingSetAfter)} MiB ({MiB(figures.WorkingSetAfter - figures.WorkingSetBefore)} MiB growth); peak working set {MiB(figures.PeakWorkingSetBefore)} -> {MiB(figures.PeakWorkingSetAfter)} MiB ({MiB(figures.PeakWorkingSetAfter - figures.PeakWorkingSetBefore)} MiB growth)"));
    }

    private static void AssertWithinBudget(MemoryFigures figures)
        => Assert.IsLessThan(
            AllocationBudget,
            figures.Allocated,
            $"{figures.Allocated:N0} managed bytes were allocated while {BodySize:N0} bytes went through: something holds the body whole.");

    private static long ReadBodySize()
    {
        var text = Environment.GetEnvironmentVariable("BALANCING_STREAM_TEST_MIB");
        var mebibytes = string.IsNullOrWhiteSpace(text) ? DefaultMebibytes : int.Parse(text, CultureInfo.InvariantCulture);
        return mebibytes * Mebibyte;
    }

    private sealed record MemoryFigures(
        long Allocated,
        long WorkingSetBefore,
        long WorkingSetAfter,
        long PeakWorkingSetBefore,
        long PeakWorkingSetAfter,
        TimeSpan Elapsed);

    /// <summary>Process-wide allocation and working-set figures around one transfer.</summary>
    private sealed class MemoryProbe
    {
        private readonly long _allocated;
        private readonly long _workingSet;
        private readonly long _peakWorkingSet;
        private readonly long _started;

        private MemoryProbe()
        {
            // Collect first so the working set starts from what is live, not from earlier tests' garbage.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            using var process = Process.GetCurrentProcess();
            _workingSet = process.WorkingSet64;
            _peakWorkingSet = process.PeakWorkingSet64;
            _allocated = GC.GetTotalAllocatedBytes(precise: true);
            _started = Stopwatch.GetTimestamp();
        }

        public static MemoryProbe Start() => new();

        public MemoryFigures Stop()
        {
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - _allocated;
            var elapsed = Stopwatch.GetElapsedTime(_started);
            using var process = Process.GetCurrentProcess();
            return new MemoryFigures(allocated, _workingSet, process.WorkingSet64, _peakWorkingSet, process.PeakWorkingSet64, elapsed);
        }
    }

    /// <summary>
    /// The bytes every body in these tests carries: a seeded random block of a prime length repeated without end.
    /// Any corrupted byte is caught, and so is a lost, repeated or reordered piece of any size but a multiple of the
    /// prime (transports move powers of two). Filling and checking are slice copies and compares, so a test's time
    /// goes to the transfer, not to the check.
    /// </summary>
    private sealed class BodyPattern
    {
        private const int Period = 65_521;
        private static readonly byte[] Block = CreateBlock();

        /// <summary>Gets how many bytes were filled or verified.</summary>
        public long Length { get; private set; }

        /// <summary>Gets the offset of the first byte that differed from the pattern, or -1.</summary>
        public long FirstMismatch { get; private set; } = -1;

        public void Fill(Span<byte> destination)
        {
            while (!destination.IsEmpty)
            {
                var expected = NextSlice(destination.Length);
                expected.CopyTo(destination);
                destination = destination[expected.Length..];
            }
        }

        public void Verify(ReadOnlySpan<byte> received)
        {
            while (!received.IsEmpty)
            {
                var offset = Length;
                var expected = NextSlice(received.Length);
                var actual = received[..expected.Length];
                if (FirstMismatch < 0 && !actual.SequenceEqual(expected))
                {
                    FirstMismatch = offset + actual.CommonPrefixLength(expected);
                }

                received = received[expected.Length..];
            }
        }

        private ReadOnlySpan<byte> NextSlice(int most)
        {
            var phase = (int)(Length % Period);
            var count = Math.Min(most, Period - phase);
            Length += count;
            return Block.AsSpan(phase, count);
        }

        private static byte[] CreateBlock()
        {
            var block = new byte[Period];
            new Random(20_251_127).NextBytes(block);
            return block;
        }
    }

    /// <summary>A read-only, unseekable stream of <see cref="BodyPattern"/> bytes, generated as they are read.</summary>
    private sealed class PatternStream(long length) : Stream
    {
        private readonly BodyPattern _pattern = new();

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _pattern.Length;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var count = (int)Math.Min(buffer.Length, length - _pattern.Length);
            _pattern.Fill(buffer[..count]);
            return count;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<int>(cancellationToken) : ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
