using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;

namespace Balancing.AspNetCore.Tests.Diagnostics;

/// <summary>
/// The attempt spans and the trace context the backend receives, through real Kestrel. The listener is process-wide
/// and other tests run alongside, so each test looks only at the spans of its own request's trace.
/// </summary>
[TestClass]
public sealed class TracingTests
{
    [TestMethod]
    public async Task Attempt_IsAClientSpanUnderTheServerRequestAndTheBackendContinuesItsTrace()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        using var spans = new SpanCollector();
        var requests = new ConcurrentQueue<Activity>();
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend), app => CaptureRequestActivity(app, requests));

        using var response = await balancer.Client.GetAsync("/orders/1");

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        var server = requests.Single();
        var attempt = (await spans.WaitForAsync(server.TraceId, 1)).Single();
        Assert.AreEqual("balancing.attempt", attempt.OperationName);
        Assert.AreEqual(ActivityKind.Client, attempt.Kind);
        Assert.AreEqual(server.SpanId, attempt.ParentSpanId, "the attempt is a child of the server request");
        Assert.AreEqual("default", attempt.GetTagItem("balancing.pool"));
        Assert.AreEqual("b1", attempt.GetTagItem("balancing.backend"));
        Assert.AreEqual(1, attempt.GetTagItem("balancing.attempt"));
        Assert.AreEqual("success", attempt.GetTagItem("balancing.outcome"));
        Assert.AreEqual(200, attempt.GetTagItem("http.response.status_code"));
        Assert.AreEqual("127.0.0.1", attempt.GetTagItem("server.address"));
        Assert.AreEqual(backend.Port, attempt.GetTagItem("server.port"));
        Assert.AreEqual(ActivityStatusCode.Unset, attempt.Status);

        var traceparent = backend.Received.Single().Headers["traceparent"];
        Assert.HasCount(1, traceparent, "exactly one traceparent reaches the backend");
        Assert.AreEqual(server.TraceId.ToHexString(), TraceIdOf(traceparent[0]));
    }

    [TestMethod]
    public async Task ClientTraceparent_IsContinuedNotForwardedAsIs()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        using var spans = new SpanCollector();
        var requests = new ConcurrentQueue<Activity>();
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend), app => CaptureRequestActivity(app, requests));
        var clientTrace = ActivityTraceId.CreateRandom();
        var clientSpan = ActivitySpanId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.TryAddWithoutValidation("traceparent", $"00-{clientTrace.ToHexString()}-{clientSpan.ToHexString()}-01");
        request.Headers.TryAddWithoutValidation("tracestate", "client=1");

        using var response = await balancer.Client.SendAsync(request);

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        var server = requests.Single();
        Assert.AreEqual(clientTrace, server.TraceId, "ASP.NET Core continued the client's trace");
        var attempt = (await spans.WaitForAsync(clientTrace, 1)).Single();
        Assert.AreEqual(server.SpanId, attempt.ParentSpanId);
        var headers = backend.Received.Single().Headers;
        var traceparent = headers["traceparent"];
        Assert.HasCount(1, traceparent);
        Assert.AreEqual(clientTrace.ToHexString(), TraceIdOf(traceparent[0]));
        Assert.AreNotEqual(clientSpan.ToHexString(), ParentIdOf(traceparent[0]), "the backend's parent is a span of the balancer, not the client's");
        Assert.AreNotEqual(server.SpanId.ToHexString(), ParentIdOf(traceparent[0]), "and one below the server request");
        Assert.AreEqual("client=1", headers["tracestate"].Single(), "the trace state goes on, once");
    }

    [TestMethod]
    public async Task RetriedRequest_HasOneSpanPerAttemptNumberedInOrder()
    {
        await using var good = await TestBackend.StartAsync("b-good");
        using var spans = new SpanCollector();
        var requests = new ConcurrentQueue<Activity>();
        var settings = new Dictionary<string, string?>
        {
            ["LoadBalancer:Pools:default:Backends:a-dead:Address"] = $"http://127.0.0.1:{BalancerHost.ClosedPort()}",
            ["LoadBalancer:Pools:default:Backends:b-good:Address"] = good.Address,
        };
        await using var balancer = await BalancerHost.StartAsync(settings, app => CaptureRequestActivity(app, requests));

        using var response = await balancer.Client.GetAsync("/");

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        var server = requests.Single();
        var attempts = (await spans.WaitForAsync(server.TraceId, 2)).OrderBy(a => (int)a.GetTagItem("balancing.attempt")!).ToList();
        Assert.HasCount(2, attempts);
        Assert.IsTrue(attempts.All(a => a.ParentSpanId == server.SpanId));
        Assert.AreEqual((1, "a-dead", "connect_failed", ActivityStatusCode.Error), Describe(attempts[0]));
        Assert.AreEqual((2, "b-good", "success", ActivityStatusCode.Unset), Describe(attempts[1]));
        Assert.AreEqual("connect_failed", attempts[0].GetTagItem("error.type"));
        Assert.AreEqual(server.TraceId.ToHexString(), TraceIdOf(good.Received.Single().Headers["traceparent"].Single()));
    }

    [TestMethod]
    public async Task RequestLogLine_CarriesTheRequestsTraceId()
    {
        await using var backend = await TestBackend.StartAsync("b1");
        var requests = new ConcurrentQueue<Activity>();
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend), app => CaptureRequestActivity(app, requests));

        using var response = await balancer.Client.GetAsync("/");

        var traceId = requests.Single().TraceId.ToHexString();
        await Eventually.TrueAsync(() => balancer.Logs.GetSnapshot().Any(r => r.Id.Name == "RequestForwarded"));
        var line = balancer.Logs.GetSnapshot().Single(r => r.Id.Name == "RequestForwarded");
        Assert.AreEqual(traceId, line.StructuredState!.Single(kv => kv.Key == "TraceId").Value);
        Assert.AreEqual(traceId, TraceIdOf(backend.Received.Single().Headers["traceparent"].Single()));
    }

    private static void CaptureRequestActivity(WebApplication app, ConcurrentQueue<Activity> requests)
    {
        app.Use((context, next) =>
        {
            requests.Enqueue(Activity.Current ?? throw new InvalidOperationException("ASP.NET Core started no activity for the request."));
            return next(context);
        });
        app.UseLoadBalancer();
    }

    private static (object?, object?, object?, ActivityStatusCode) Describe(Activity attempt)
        => (attempt.GetTagItem("balancing.attempt"), attempt.GetTagItem("balancing.backend"), attempt.GetTagItem("balancing.outcome"), attempt.Status);

    // traceparent: version-traceid-parentid-flags.
    private static string TraceIdOf(string traceparent) => traceparent.Split('-')[1];

    private static string ParentIdOf(string traceparent) => traceparent.Split('-')[2];

    /// <summary>Records every stopped span of the balancer's source.</summary>
    private sealed class SpanCollector : IDisposable
    {
        private readonly ActivityListener _listener;
        private readonly ConcurrentQueue<Activity> _stopped = new();

        public SpanCollector()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == BalancingTelemetry.ActivitySourceName,
                Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = _stopped.Enqueue,
            };
            ActivitySource.AddActivityListener(_listener);
        }

        /// <summary>Waits until <paramref name="count"/> attempt spans of the trace have stopped, and returns them.</summary>
        public async Task<List<Activity>> WaitForAsync(ActivityTraceId traceId, int count)
        {
            List<Activity> Of() => [.. _stopped.Where(a => a.TraceId == traceId && a.OperationName == "balancing.attempt")];
            await Eventually.TrueAsync(() => Of().Count >= count);
            return Of();
        }

        public void Dispose() => _listener.Dispose();
    }
}
