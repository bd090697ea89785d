using System.Net;
using System.Text.RegularExpressions;
using Balancing.Diagnostics;

namespace Balancing.Core.Tests.Diagnostics;

[TestClass]
public sealed partial class TelemetryTagsTests
{
    [TestMethod]
    public void OutcomeOf_EveryForwardError_IsItsNameInSnakeCase()
    {
        foreach (var error in Enum.GetValues<ForwardError>())
        {
            var expected = error == ForwardError.None ? "success" : CapitalAfterLetter().Replace(error.ToString(), "$1_$2").ToLowerInvariant();

            Assert.AreEqual(expected, TelemetryTags.OutcomeOf(error), error.ToString());
        }
    }

    [TestMethod]
    public void OutcomeOf_EveryRequestOutcome_HasItsOwnValue()
    {
        var values = Enum.GetValues<RequestOutcome>().Select(TelemetryTags.OutcomeOf).ToList();

        CollectionAssert.AllItemsAreUnique(values);
        CollectionAssert.AreEquivalent(values, TelemetryTags.AllOutcomes.ToList());
        Assert.AreEqual("response_aborted", TelemetryTags.OutcomeOf(RequestOutcome.ResponseAborted));
        Assert.AreEqual("client_disconnected", TelemetryTags.OutcomeOf(RequestOutcome.ClientDisconnected));
    }

    [TestMethod]
    [DataRow(0, "none")]
    [DataRow(99, "none")]
    [DataRow(101, "1xx")]
    [DataRow(200, "2xx")]
    [DataRow(304, "3xx")]
    [DataRow(404, "4xx")]
    [DataRow(599, "5xx")]
    [DataRow(600, "none")]
    public void StatusClassOf_MapsTheHundredsOrNone(int status, string expected)
        => Assert.AreEqual(expected, TelemetryTags.StatusClassOf(status));

    [TestMethod]
    public void RetryReasonOf_AnError_IsTheErrorsOutcome()
    {
        var previous = new BalancedResponse(null, null, ForwardError.ResponseTimeout, null, TimeSpan.Zero);

        Assert.AreEqual("response_timeout", TelemetryTags.RetryReasonOf(previous));
    }

    [TestMethod]
    public void RetryReasonOf_ARetriedStatus_IsStatusAndTheCodeAndTheSameStringEachTime()
    {
        using var first = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        using var second = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);

        var reason = TelemetryTags.RetryReasonOf(new BalancedResponse(first, null, ForwardError.None, null, TimeSpan.Zero));
        var again = TelemetryTags.RetryReasonOf(new BalancedResponse(second, null, ForwardError.None, null, TimeSpan.Zero));

        Assert.AreEqual("status_503", reason);
        Assert.AreSame(reason, again, "built once, not per retry");
    }

    [TestMethod]
    [DataRow(BreakerState.Closed, 0)]
    [DataRow(BreakerState.HalfOpen, 1)]
    [DataRow(BreakerState.Open, 2)]
    public void BreakerValue_RisesWithSeverity(BreakerState state, int expected)
        => Assert.AreEqual(expected, BalancingMetrics.BreakerValue(state));

    [GeneratedRegex("([a-z])([A-Z])")]
    private static partial Regex CapitalAfterLetter();
}
