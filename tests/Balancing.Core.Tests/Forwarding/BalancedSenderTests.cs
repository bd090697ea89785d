using System.Net;
using Balancing.Core.Tests.Infrastructure;
using Balancing.Pools;
using Balancing.Strategies;
using Microsoft.Extensions.Time.Testing;

namespace Balancing.Core.Tests.Forwarding;

[TestClass]
public sealed class BalancedSenderTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [TestMethod]
    [DataRow(true, false)]
    [DataRow(true, true)]
    public void Classify_CallerCanceled_ReturnsCanceled(bool callerCanceled, bool timedOut)
    {
        var error = BalancedSender.Classify(new TaskCanceledException(), callerCanceled, timedOut);

        Assert.AreEqual(ForwardError.Canceled, error);
    }

    [TestMethod]
    public void Classify_CallerCanceledDuringConnect_ReturnsCanceled()
    {
        var exception = new HttpRequestException(HttpRequestError.ConnectionError, "refused");

        var error = BalancedSender.Classify(exception, callerCanceled: true, timedOut: false);

        Assert.AreEqual(ForwardError.Canceled, error);
    }

    [TestMethod]
    public void Classify_CanceledByOurTimeout_ReturnsResponseTimeout()
    {
        var error = BalancedSender.Classify(new TaskCanceledException(), callerCanceled: false, timedOut: true);

        Assert.AreEqual(ForwardError.ResponseTimeout, error);
    }

    [TestMethod]
    public void Classify_CanceledWrappingTimeoutAfterOurTimeout_ReturnsResponseTimeout()
    {
        var exception = new TaskCanceledException("timed out", new TimeoutException());

        var error = BalancedSender.Classify(exception, callerCanceled: false, timedOut: true);

        Assert.AreEqual(ForwardError.ResponseTimeout, error);
    }

    [TestMethod]
    public void Classify_CanceledWrappingTimeoutWithoutOurTimeout_ReturnsConnectTimeout()
    {
        // SocketsHttpHandler's ConnectTimeout.
        var exception = new TaskCanceledException("connect timed out", new TimeoutException());

        var error = BalancedSender.Classify(exception, callerCanceled: false, timedOut: false);

        Assert.AreEqual(ForwardError.ConnectTimeout, error);
    }

    [TestMethod]
    public void Classify_HttpRequestExceptionWrappingTimeout_ReturnsConnectTimeout()
    {
        var exception = new HttpRequestException("connect timed out", new TimeoutException());

        var error = BalancedSender.Classify(exception, callerCanceled: false, timedOut: false);

        Assert.AreEqual(ForwardError.ConnectTimeout, error);
    }

    [TestMethod]
    [DataRow(HttpRequestError.ConnectionError)]
    [DataRow(HttpRequestError.NameResolutionError)]
    [DataRow(HttpRequestError.SecureConnectionError)]
    public void Classify_ConnectionLevelError_ReturnsConnectFailed(HttpRequestError requestError)
    {
        var exception = new HttpRequestException(requestError, "could not connect");

        var error = BalancedSender.Classify(exception, callerCanceled: false, timedOut: false);

        Assert.AreEqual(ForwardError.ConnectFailed, error);
    }

    [TestMethod]
    public void Classify_HttpRequestExceptionWrappingRequestBodyReadException_ReturnsRequestBodyFailed()
    {
        var exception = new HttpRequestException("send failed", new RequestBodyReadException("client went quiet"));

        var error = BalancedSender.Classify(exception, callerCanceled: false, timedOut: false);

        Assert.AreEqual(ForwardError.RequestBodyFailed, error);
    }

    [TestMethod]
    public void Classify_RequestBodyReadExceptionDeeperInChain_ReturnsRequestBodyFailed()
    {
        var exception = new HttpRequestException("send failed", new IOException("copy failed", new RequestBodyReadException("client reset")));

        var error = BalancedSender.Classify(exception, callerCanceled: false, timedOut: false);

        Assert.AreEqual(ForwardError.RequestBodyFailed, error);
    }

    [TestMethod]
    [DataRow(HttpRequestError.Unknown)]
    [DataRow(HttpRequestError.InvalidResponse)]
    [DataRow(HttpRequestError.ResponseEnded)]
    [DataRow(HttpRequestError.HttpProtocolError)]
    public void Classify_OtherHttpRequestException_ReturnsBackendProtocolError(HttpRequestError requestError)
    {
        var exception = new HttpRequestException(requestError, "broken", new IOException("reset"));

        var error = BalancedSender.Classify(exception, callerCanceled: false, timedOut: false);

        Assert.AreEqual(ForwardError.BackendProtocolError, error);
    }

    [TestMethod]
    [DataRow(ForwardError.None, BackendOutcome.Success)]
    [DataRow(ForwardError.ConnectTimeout, BackendOutcome.Timeout)]
    [DataRow(ForwardError.ResponseTimeout, BackendOutcome.Timeout)]
    [DataRow(ForwardError.ConnectFailed, BackendOutcome.TransportError)]
    [DataRow(ForwardError.BackendProtocolError, BackendOutcome.TransportError)]
    [DataRow(ForwardError.Canceled, BackendOutcome.Canceled)]
    [DataRow(ForwardError.RequestBodyFailed, BackendOutcome.Canceled)]
    [DataRow(ForwardError.NoAvailableBackend, BackendOutcome.Canceled)]
    public void ToOutcome_MapsEveryError(ForwardError error, BackendOutcome expected)
    {
        Assert.AreEqual(expected, BalancedSender.ToOutcome(error));
    }

    [TestMethod]
    public async Task SendAsync_RelativePathAndQuery_AppendedToAddressPrefixByteForByte()
    {
        const string Target = "/a%2Fb/c%20d/./e/../f%41?x=%2F&y=%41+z";
        var handler = new FakeHttpHandler();
        using var balancer = TestBalancer.CreateWithHandler(Settings.Pool("default", ("b1", "http://b1.test:8080/api/")), handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Target, UriKind.Relative));

        var result = await balancer.Sender.SendAsync(balancer.Pool(), request, new BalancingContext(null), CancellationToken.None);
        result.Response?.Dispose();

        var sent = Assert.ContainsSingle(handler.RequestUris)!;
        Assert.AreEqual(("http://b1.test:8080/api" + Target, "/api" + Target), (sent.AbsoluteUri, sent.PathAndQuery));
    }

    [TestMethod]
    [DataRow("users/1")]
    [DataRow(".evil.test/steal")]
    public async Task SendAsync_RelativePathWithoutLeadingSlash_StaysOnTheBackendHost(string target)
    {
        // Regression guard (was a bug): the path is concatenated to "http://b1.test" as is, so it becomes part of the host name.
        var handler = new FakeHttpHandler();
        using var balancer = TestBalancer.CreateWithHandler(Settings.Pool("default", ("b1", "http://b1.test")), handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(target, UriKind.Relative));

        var result = await balancer.Sender.SendAsync(balancer.Pool(), request, new BalancingContext(null), CancellationToken.None);
        result.Response?.Dispose();

        var sent = Assert.ContainsSingle(handler.RequestUris)!;
        Assert.AreEqual("b1.test", sent.Host, sent.AbsoluteUri);
    }

    [TestMethod]
    public async Task SendAsync_BackendAnswers_ReturnsResponseFromChosenBackend()
    {
        var handler = new FakeHttpHandler((_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.Accepted)));
        using var balancer = TestBalancer.CreateWithHandler(Settings.DefaultPool(), handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/", UriKind.Relative));

        var result = await balancer.Sender.SendAsync(balancer.Pool(), request, new BalancingContext(null), CancellationToken.None);
        using var response = result.Response;

        Assert.AreEqual((ForwardError.None, HttpStatusCode.Accepted, "b1"), (result.Error, response?.StatusCode, result.Backend?.Id));
    }

    [TestMethod]
    public async Task SendAsync_SuccessiveRequests_FollowTheStrategy()
    {
        var handler = new FakeHttpHandler();
        using var balancer = TestBalancer.CreateWithHandler(Settings.DefaultPool(), handler);
        var chosen = new List<string?>();

        for (var i = 0; i < 4; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/", UriKind.Relative));
            var result = await balancer.Sender.SendAsync(balancer.Pool(), request, new BalancingContext(null), CancellationToken.None);
            result.Complete(BackendOutcome.Success);
            result.Response?.Dispose();
            chosen.Add(result.Backend?.Id);
        }

        Assert.AreSequenceEqual(new[] { "b1", "b2", "b3", "b1" }, chosen);
    }

    [TestMethod]
    public async Task SendAsync_ResponseHeldByCaller_BackendHasOneInFlight()
    {
        using var balancer = TestBalancer.CreateWithHandler(Settings.Pool("default", ("b1", "http://b1.test")), new FakeHttpHandler());
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/", UriKind.Relative));

        var result = await balancer.Sender.SendAsync(balancer.Pool(), request, new BalancingContext(null), CancellationToken.None);
        using var response = result.Response;

        Assert.AreEqual((1, 1L), (balancer.Pool().FindBackend("b1")!.InFlight, balancer.Pool().FindBackend("b1")!.TotalRequests));
    }

    [TestMethod]
    public async Task SendAsync_ThenComplete_BackendHasNoneInFlight()
    {
        using var balancer = TestBalancer.CreateWithHandler(Settings.Pool("default", ("b1", "http://b1.test")), new FakeHttpHandler());
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/", UriKind.Relative));
        var result = await balancer.Sender.SendAsync(balancer.Pool(), request, new BalancingContext(null), CancellationToken.None);
        using var response = result.Response;

        result.Complete(BackendOutcome.Success);

        var backend = balancer.Pool().FindBackend("b1")!;
        Assert.AreEqual((0, BackendOutcome.Success), (backend.InFlight, backend.LastOutcome));
    }

    [TestMethod]
    public async Task SendAsync_ConnectionError_ReturnsConnectFailedWithException()
    {
        var refused = new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused");
        using var balancer = TestBalancer.CreateWithHandler(Settings.Pool("default", ("b1", "http://b1.test")), FakeHttpHandler.Throwing(refused));
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/", UriKind.Relative));

        var result = await balancer.Sender.SendAsync(balancer.Pool(), request, new BalancingContext(null), CancellationToken.None);

        Assert.AreEqual((ForwardError.ConnectFailed, (HttpResponseMessage?)null, "b1"), (result.Error, result.Response, result.Backend?.Id));
        Assert.AreSame(refused, result.Exception);
    }

    [TestMethod]
    public async Task SendAsync_ConnectionError_RecordsFailureAndReleasesInFlight()
    {
        var refused = new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused");
        using var balancer = TestBalancer.CreateWithHandler(
            Settings.Pool("default", ("b1", "http://b1.test")).With("LoadBalancer:Pools:default:Retry:Enabled", "false"), FakeHttpHandler.Throwing(refused));
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/", UriKind.Relative));

        await balancer.Sender.SendAsync(balancer.Pool(), request, new BalancingContext(null), CancellationToken.None);

        var backend = balancer.Pool().FindBackend("b1")!;
        Assert.AreEqual((0, 1L, 1L, BackendOutcome.TransportError), (backend.InFlight, backend.TotalRequests, backend.TotalFailures, backend.LastOutcome));
    }

    [TestMethod]
    public async Task SendAsync_NoAvailableBackend_ReturnsNoAvailableBackendWithoutCallingHandler()
    {
        var handler = new FakeHttpHandler();
        using var balancer = TestBalancer.CreateWithHandler(
            Settings.DefaultPool().With("LoadBalancer:Pools:default:HealthCheck:WhenTooFewHealthy", "Reject"), handler);
        var pool = balancer.Pool();
        foreach (var backend in pool.Backends)
        {
            backend.SetHealth(BackendHealth.Unhealthy, "test", DateTimeOffset.UnixEpoch);
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/", UriKind.Relative));
        var result = await balancer.Sender.SendAsync(pool, request, new BalancingContext(null), CancellationToken.None);

        Assert.AreEqual((ForwardError.NoAvailableBackend, (BackendState?)null, 0), (result.Error, result.Backend, handler.Calls));
    }

    [TestMethod]
    public async Task SendAsync_StrategyRefuses_ReturnsNoAvailableBackend()
    {
        var handler = new FakeHttpHandler();
        using var balancer = TestBalancer.CreateWithHandler(Settings.DefaultPool(), handler);
        var pool = balancer.Pool();
        pool.Update(pool.Options, new RefusingStrategy());

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/", UriKind.Relative));
        var result = await balancer.Sender.SendAsync(pool, request, new BalancingContext(null), CancellationToken.None);

        Assert.AreEqual((ForwardError.NoAvailableBackend, 0), (result.Error, handler.Calls));
    }

    [TestMethod]
    public async Task SendAsync_PoolTimeoutElapses_ReturnsResponseTimeout()
    {
        var clock = new FakeTimeProvider();
        var handler = FakeHttpHandler.WaitingForCancellation();
        using var balancer = TestBalancer.CreateWithHandler(
            Settings.Pool("default", ("b1", "http://b1.test")).With("LoadBalancer:Pools:default:Timeout", "00:00:05")
                .With("LoadBalancer:Pools:default:Retry:Enabled", "false"), handler, clock);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/slow", UriKind.Relative));

        var sending = balancer.Sender.SendAsync(balancer.Pool(), request, new BalancingContext(null), CancellationToken.None).AsTask();
        await handler.Called.Task.WaitAsync(Wait);
        clock.Advance(TimeSpan.FromSeconds(5));
        var result = await sending.WaitAsync(Wait);

        Assert.AreEqual((ForwardError.ResponseTimeout, TimeSpan.FromSeconds(5)), (result.Error, result.Elapsed));
    }

    [TestMethod]
    public async Task SendAsync_PoolTimeoutElapses_RecordsTimeoutOnBackend()
    {
        var clock = new FakeTimeProvider();
        var handler = FakeHttpHandler.WaitingForCancellation();
        using var balancer = TestBalancer.CreateWithHandler(
            Settings.Pool("default", ("b1", "http://b1.test")).With("LoadBalancer:Pools:default:Timeout", "00:00:05")
                .With("LoadBalancer:Pools:default:Retry:Enabled", "false"), handler, clock);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/slow", UriKind.Relative));

        var sending = balancer.Sender.SendAsync(balancer.Pool(), request, new BalancingContext(null), CancellationToken.None).AsTask();
        await handler.Called.Task.WaitAsync(Wait);
        clock.Advance(TimeSpan.FromSeconds(5));
        await sending.WaitAsync(Wait);

        var backend = balancer.Pool().FindBackend("b1")!;
        Assert.AreEqual((0, 1L, BackendOutcome.Timeout), (backend.InFlight, backend.TotalFailures, backend.LastOutcome));
    }

    [TestMethod]
    public async Task SendAsync_BeforePoolTimeout_StillWaitsForTheBackend()
    {
        var clock = new FakeTimeProvider();
        var handler = FakeHttpHandler.WaitingForCancellation();
        using var balancer = TestBalancer.CreateWithHandler(
            Settings.Pool("default", ("b1", "http://b1.test")).With("LoadBalancer:Pools:default:Timeout", "00:00:05")
                .With("LoadBalancer:Pools:default:Retry:Enabled", "false"), handler, clock);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/slow", UriKind.Relative));
        using var caller = new CancellationTokenSource();

        var sending = balancer.Sender.SendAsync(balancer.Pool(), request, new BalancingContext(null), caller.Token).AsTask();
        await handler.Called.Task.WaitAsync(Wait);
        clock.Advance(TimeSpan.FromSeconds(4.9));
        var completedEarly = sending.IsCompleted;
        await caller.CancelAsync();
        await sending.WaitAsync(Wait);

        Assert.IsFalse(completedEarly);
    }

    [TestMethod]
    public async Task SendAsync_CallerCancels_ReturnsCanceledWithoutBlamingBackend()
    {
        var handler = FakeHttpHandler.WaitingForCancellation();
        using var balancer = TestBalancer.CreateWithHandler(Settings.Pool("default", ("b1", "http://b1.test")), handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/", UriKind.Relative));
        using var caller = new CancellationTokenSource();

        var sending = balancer.Sender.SendAsync(balancer.Pool(), request, new BalancingContext(null), caller.Token).AsTask();
        await handler.Called.Task.WaitAsync(Wait);
        await caller.CancelAsync();
        var result = await sending.WaitAsync(Wait);

        var backend = balancer.Pool().FindBackend("b1")!;
        Assert.AreEqual(
            (ForwardError.Canceled, 0, 0L, BackendOutcome.None),
            (result.Error, backend.InFlight, backend.TotalFailures, backend.LastOutcome));
    }

    [TestMethod]
    public async Task SendAsync_HandlerThrowsUnexpectedException_ReleasesInFlight()
    {
        // Regression guard (was a bug): only OperationCanceledException and HttpRequestException are caught after RequestStarted.
        // A DelegatingHandler added to the "Balancing" client (a Polly pipeline, say) may throw anything;
        // whatever happens, the backend must not keep a phantom in-flight request.
        var handler = FakeHttpHandler.Throwing(new InvalidOperationException("handler bug"));
        using var balancer = TestBalancer.CreateWithHandler(Settings.Pool("default", ("b1", "http://b1.test")), handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/", UriKind.Relative));

        try
        {
            await balancer.Sender.SendAsync(balancer.Pool(), request, new BalancingContext(null), CancellationToken.None);
        }
        catch (InvalidOperationException)
        {
            // Whether the exception escapes is a separate question.
        }

        Assert.AreEqual(0, balancer.Pool().FindBackend("b1")!.InFlight);
    }

    [TestMethod]
    public void Create_PoolTimeoutLongerThanTimerLimit_IsRejectedAtStartNamingTheKey()
    {
        // Timers take at most ~49.7 days; a longer timeout would make every send throw, so start-up refuses it.
        using var balancer = TestBalancer.CreateWithHandler(
            Settings.Pool("default", ("b1", "http://b1.test")).With("LoadBalancer:Pools:default:Timeout", "60.00:00:00"), new FakeHttpHandler());

        var error = Assert.ThrowsExactly<Microsoft.Extensions.Options.OptionsValidationException>(() => balancer.Pool());

        Assert.Contains("LoadBalancer:Pools:default:Timeout", error.Message);
    }

    [TestMethod]
    public async Task SendAsync_PoolFromElsewhere_Throws()
    {
        using var balancer = TestBalancer.CreateWithHandler(Settings.DefaultPool(), new FakeHttpHandler());
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/", UriKind.Relative));

        await Assert.ThrowsExactlyAsync<ArgumentException>(
            async () => await balancer.Sender.SendAsync(new ForeignPool(), request, new BalancingContext(null), CancellationToken.None));
    }

    [TestMethod]
    public void Constructor_NullHandlerFactory_Throws()
    {
        Assert.ThrowsExactly<ArgumentNullException>(() => new BalancedSender(null!, TimeProvider.System));
    }

    private sealed class RefusingStrategy : ILoadStrategy
    {
        public string Name => "Refusing";

        public BackendState? Pick(ReadOnlySpan<BackendState> candidates, in BalancingContext context) => null;
    }

    private sealed class ForeignPool : IServerPool
    {
        public string Name => "foreign";

        public ILoadStrategy Strategy { get; } = new RoundRobinStrategy();

        public System.Collections.Immutable.ImmutableArray<BackendState> Backends { get; } = [new BackendState("f1", new Uri("http://f1.test"))];

        public System.Collections.Immutable.ImmutableArray<BackendState> AvailableBackends => Backends;

        public BackendState? FindBackend(string id) => null;
    }
}
