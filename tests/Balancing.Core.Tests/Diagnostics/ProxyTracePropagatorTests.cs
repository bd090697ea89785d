using System.Diagnostics;
using Balancing.Diagnostics;

namespace Balancing.Core.Tests.Diagnostics;

[TestClass]
public sealed class ProxyTracePropagatorTests
{
    [TestMethod]
    public void Inject_RequestCarryingTheClientsContext_WritesTheCurrentContextOnce()
    {
        using var activity = new Activity("test").SetIdFormat(ActivityIdFormat.W3C);
        activity.TraceStateString = "balancer=1";
        activity.Start();
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://b1.test/");
        request.Headers.TryAddWithoutValidation("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        request.Headers.TryAddWithoutValidation("tracestate", "client=1");

        // As SocketsHttpHandler's diagnostics handler calls it: its setter only adds headers that are missing.
        ProxyTracePropagator.Instance.Inject(activity, request, static (carrier, name, value) =>
        {
            var headers = ((HttpRequestMessage)carrier!).Headers;
            if (!headers.Contains(name))
            {
                headers.TryAddWithoutValidation(name, value);
            }
        });

        Assert.AreEqual(activity.Id, request.Headers.GetValues("traceparent").Single());
        Assert.AreEqual("balancer=1", request.Headers.GetValues("tracestate").Single());
    }

    [TestMethod]
    public void Fields_AreTheAppsPropagatorsFields()
        => CollectionAssert.AreEquivalent(DistributedContextPropagator.Current.Fields.ToList(), ProxyTracePropagator.Instance.Fields.ToList());
}
