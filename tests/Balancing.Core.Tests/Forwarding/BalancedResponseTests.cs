namespace Balancing.Core.Tests.Forwarding;

[TestClass]
public sealed class BalancedResponseTests
{
    [TestMethod]
    public void Complete_WithResponse_RecordsOutcomeOnBackend()
    {
        var backend = new BackendState("b1", new Uri("http://b1.test"));
        backend.RequestStarted();
        using var response = new HttpResponseMessage();
        var result = new BalancedResponse(response, backend, ForwardError.None, null, TimeSpan.Zero);

        result.Complete(BackendOutcome.FailureStatus);

        Assert.AreEqual((0, 1L, BackendOutcome.FailureStatus), (backend.InFlight, backend.TotalFailures, backend.LastOutcome));
    }

    [TestMethod]
    public void Complete_WithoutResponse_LeavesBackendUntouched()
    {
        // The sender already recorded the failure; completing again would count it twice.
        var backend = new BackendState("b1", new Uri("http://b1.test"));
        var result = new BalancedResponse(null, backend, ForwardError.ConnectFailed, null, TimeSpan.Zero);

        result.Complete(BackendOutcome.TransportError);

        Assert.AreEqual((0, 0L, BackendOutcome.None), (backend.InFlight, backend.TotalFailures, backend.LastOutcome));
    }

    [TestMethod]
    public void Default_HasNoResponseAndNoError()
    {
        var result = default(BalancedResponse);

        Assert.AreEqual(((HttpResponseMessage?)null, (BackendState?)null, ForwardError.None), (result.Response, result.Backend, result.Error));
    }
}
