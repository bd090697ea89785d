namespace Balancing.Core.Tests;

[TestClass]
public sealed class BackendStateTests
{
    private static readonly DateTimeOffset Now = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [TestMethod]
    public void Constructor_RelativeAddress_Throws()
    {
        Assert.ThrowsExactly<ArgumentException>(() => new BackendState("b1", new Uri("/api", UriKind.Relative)));
    }

    [TestMethod]
    [DataRow("ftp://b1.test/")]
    [DataRow("file:///srv/b1")]
    [DataRow("ws://b1.test/")]
    public void Constructor_NonHttpScheme_Throws(string address)
    {
        Assert.ThrowsExactly<ArgumentException>(() => new BackendState("b1", new Uri(address)));
    }

    [TestMethod]
    public void Constructor_NegativeWeight_Throws()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BackendState("b1", new Uri("http://b1.test"), weight: -1));
    }

    [TestMethod]
    public void Constructor_EmptyId_Throws()
    {
        Assert.ThrowsExactly<ArgumentException>(() => new BackendState(string.Empty, new Uri("http://b1.test")));
    }

    [TestMethod]
    [DataRow("http://b1.test:8080", "http://b1.test:8080")]
    [DataRow("http://b1.test:8080/", "http://b1.test:8080")]
    [DataRow("https://b1.test/api", "https://b1.test/api")]
    [DataRow("https://b1.test/api/", "https://b1.test/api")]
    [DataRow("http://b1.test/api/v2/", "http://b1.test/api/v2")]
    public void AddressPrefix_DropsTrailingSlashAndKeepsPathPrefix(string address, string expected)
    {
        var backend = new BackendState("b1", new Uri(address));

        Assert.AreEqual(expected, backend.AddressPrefix);
    }

    [TestMethod]
    public void Weight_SetNegative_Throws()
    {
        var backend = new BackendState("b1", new Uri("http://b1.test"));

        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => backend.Weight = -1);
    }

    [TestMethod]
    public void RequestStarted_TwoRequests_CountsInFlightAndTotal()
    {
        var backend = new BackendState("b1", new Uri("http://b1.test"));

        backend.RequestStarted();
        backend.RequestStarted();

        Assert.AreEqual((2, 2L), (backend.InFlight, backend.TotalRequests));
    }

    [TestMethod]
    public void RequestCompleted_Success_DecrementsInFlightAndKeepsTotal()
    {
        var backend = new BackendState("b1", new Uri("http://b1.test"));
        backend.RequestStarted();
        backend.RequestStarted();

        backend.RequestCompleted(BackendOutcome.Success);

        Assert.AreEqual((1, 2L), (backend.InFlight, backend.TotalRequests));
    }

    [TestMethod]
    public void RequestCompleted_Success_SetsLastOutcomeWithoutFailure()
    {
        var backend = new BackendState("b1", new Uri("http://b1.test"));
        backend.RequestStarted();

        backend.RequestCompleted(BackendOutcome.Success);

        Assert.AreEqual((BackendOutcome.Success, 0L), (backend.LastOutcome, backend.TotalFailures));
    }

    [TestMethod]
    [DataRow(BackendOutcome.FailureStatus)]
    [DataRow(BackendOutcome.TransportError)]
    [DataRow(BackendOutcome.Timeout)]
    public void RequestCompleted_FailureOutcome_CountsFailureAndSetsLastOutcome(BackendOutcome outcome)
    {
        var backend = new BackendState("b1", new Uri("http://b1.test"));
        backend.RequestStarted();

        backend.RequestCompleted(outcome);

        Assert.AreEqual((outcome, 1L, 0), (backend.LastOutcome, backend.TotalFailures, backend.InFlight));
    }

    [TestMethod]
    public void RequestCompleted_Canceled_KeepsLastOutcomeAndCountsNoFailure()
    {
        var backend = new BackendState("b1", new Uri("http://b1.test"));
        backend.RequestStarted();
        backend.RequestCompleted(BackendOutcome.FailureStatus);
        backend.RequestStarted();

        backend.RequestCompleted(BackendOutcome.Canceled);

        Assert.AreEqual((BackendOutcome.FailureStatus, 1L, 0), (backend.LastOutcome, backend.TotalFailures, backend.InFlight));
    }

    [TestMethod]
    public void LastOutcome_NoRequestYet_IsNone()
    {
        var backend = new BackendState("b1", new Uri("http://b1.test"));

        Assert.AreEqual(BackendOutcome.None, backend.LastOutcome);
    }

    [TestMethod]
    public void RequestStarted_ManyThreads_CountsEveryRequest()
    {
        var backend = new BackendState("b1", new Uri("http://b1.test"));

        Parallel.For(0, 10_000, _ =>
        {
            backend.RequestStarted();
            backend.RequestCompleted(BackendOutcome.Timeout);
        });

        Assert.AreEqual((0, 10_000L, 10_000L), (backend.InFlight, backend.TotalRequests, backend.TotalFailures));
    }

    [TestMethod]
    public void SetHealth_NewValue_RaisesHealthChangedWithPreviousCurrentAndReason()
    {
        var backend = new BackendState("b1", new Uri("http://b1.test"));
        var raised = new List<BackendHealthChangedEventArgs>();
        backend.HealthChanged += (_, e) => raised.Add(e);

        backend.SetHealth(BackendHealth.Unhealthy, "3 failed probes", Now);

        var args = Assert.ContainsSingle(raised);
        Assert.AreEqual((BackendHealth.Unknown, BackendHealth.Unhealthy, "3 failed probes"), (args.Previous, args.Current, args.Reason));
    }

    [TestMethod]
    public void SetHealth_NewValue_PassesTheBackendAsSender()
    {
        var backend = new BackendState("b1", new Uri("http://b1.test"));
        object? sender = null;
        backend.HealthChanged += (s, _) => sender = s;

        backend.SetHealth(BackendHealth.Healthy, null, Now);

        Assert.AreSame(backend, sender);
    }

    [TestMethod]
    public void SetHealth_SameValueTwice_RaisesOnceAndReturnsFalseTheSecondTime()
    {
        var backend = new BackendState("b1", new Uri("http://b1.test"));
        var raised = 0;
        backend.HealthChanged += (_, _) => raised++;

        var first = backend.SetHealth(BackendHealth.Unhealthy, "down", Now);
        var second = backend.SetHealth(BackendHealth.Unhealthy, "still down", Now.AddSeconds(5));

        Assert.AreEqual((true, false, 1), (first, second, raised));
    }

    [TestMethod]
    public void SetHealth_Unknown_OnNewBackend_RaisesNothing()
    {
        var backend = new BackendState("b1", new Uri("http://b1.test"));
        var raised = 0;
        backend.HealthChanged += (_, _) => raised++;

        backend.SetHealth(BackendHealth.Unknown, null, Now);

        Assert.AreEqual(0, raised);
    }

    [TestMethod]
    public void SetHealth_NewValue_SetsHealthChangedAt()
    {
        var backend = new BackendState("b1", new Uri("http://b1.test"));

        backend.SetHealth(BackendHealth.Healthy, null, Now);

        Assert.AreEqual(Now, backend.HealthChangedAt);
    }

    [TestMethod]
    public void SetHealth_SameValue_KeepsHealthChangedAt()
    {
        var backend = new BackendState("b1", new Uri("http://b1.test"));
        backend.SetHealth(BackendHealth.Healthy, null, Now);

        backend.SetHealth(BackendHealth.Healthy, null, Now.AddMinutes(1));

        Assert.AreEqual(Now, backend.HealthChangedAt);
    }

    [TestMethod]
    public void HealthChangedAt_NeverChanged_IsNull()
    {
        var backend = new BackendState("b1", new Uri("http://b1.test"));

        Assert.IsNull(backend.HealthChangedAt);
    }

    [TestMethod]
    [DataRow(BackendHealth.Unknown, 1, true)]
    [DataRow(BackendHealth.Healthy, 1, true)]
    [DataRow(BackendHealth.Unhealthy, 1, false)]
    [DataRow(BackendHealth.Healthy, 0, false)]
    [DataRow(BackendHealth.Unknown, 0, false)]
    public void IsAvailable_DependsOnHealthAndWeight(BackendHealth health, int weight, bool expected)
    {
        var backend = new BackendState("b1", new Uri("http://b1.test"), weight);
        backend.SetHealth(health, null, Now);

        Assert.AreEqual(expected, backend.IsAvailable);
    }
}
