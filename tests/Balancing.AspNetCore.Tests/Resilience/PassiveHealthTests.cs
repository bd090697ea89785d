using System.Net;
using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Balancing.AspNetCore.Tests.Resilience;

[TestClass]
public sealed class PassiveHealthTests
{
    [TestMethod]
    public async Task BackendAnswering500_IsEjectedAfterFiveAndTrafficMovesToTheOthers()
    {
        await using var bad = await TestBackend.StartAsync("a-bad", Fail);
        await using var good = await TestBackend.StartAsync("b-good");
        await using var balancer = await StartAsync(new FakeTimeProvider(DateTimeOffset.UtcNow), bad, good);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 30; i++)
        {
            using var response = await balancer.Client.GetAsync("/");
            statuses.Add(response.StatusCode);
        }

        var state = balancer.Registry.GetPool("default")!.FindBackend("a-bad")!;
        Assert.AreEqual(5, bad.Received.Count, "five failures in a row eject the backend (Envoy's consecutive_5xx)");
        Assert.IsTrue(state.IsEjected);
        Assert.AreEqual(BreakerState.Open, state.BreakerState);
        Assert.AreEqual(1, state.EjectionCount);
        Assert.IsTrue(statuses.Skip(10).All(s => s == HttpStatusCode.OK), "after the ejection every request is served by the good backend");
    }

    [TestMethod]
    public async Task BusyBackendThatStartsFailing_IsEjectedAfterFiveInARowDespiteEarlierSuccesses()
    {
        var failing = false;
        await using var flaky = await TestBackend.StartAsync("a-flaky", context => failing ? Fail(context) : context.Response.WriteAsync("a-flaky"));
        await using var good = await TestBackend.StartAsync("b-good");
        await using var balancer = await StartAsync(new FakeTimeProvider(DateTimeOffset.UtcNow), flaky, good);
        for (var i = 0; i < 100; i++)
        {
            using var response = await balancer.Client.GetAsync("/");
            Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        }

        failing = true;
        var before = flaky.Received.Count;
        for (var i = 0; i < 30; i++)
        {
            using var response = await balancer.Client.GetAsync("/");
        }

        var state = balancer.Registry.GetPool("default")!.FindBackend("a-flaky")!;
        Assert.AreEqual(50, before, "the first 100 requests were shared evenly");
        Assert.AreEqual(5, flaky.Received.Count - before, "fifty successes within the window do not hold back an ejection after five failures in a row");
        Assert.IsTrue(state.IsEjected);
    }

    [TestMethod]
    public async Task SuccessBetweenFailures_HoldsTheRunBreakerBack()
    {
        var answers = new Queue<int>([500, 500, 500, 500, 200, 500, 500, 500, 500]);
        await using var flaky = await TestBackend.StartAsync("a-flaky", context =>
        {
            context.Response.StatusCode = answers.TryDequeue(out var status) ? status : 200;
            return Task.CompletedTask;
        });
        await using var good = await TestBackend.StartAsync("b-good");
        await using var balancer = await StartAsync(new FakeTimeProvider(DateTimeOffset.UtcNow), flaky, good);

        for (var i = 0; i < 18; i++)
        {
            using var response = await balancer.Client.GetAsync("/");
        }

        Assert.AreEqual(9, flaky.Received.Count);
        Assert.IsFalse(balancer.Registry.GetPool("default")!.FindBackend("a-flaky")!.IsEjected, "eight failures, but never five without a success between them");
    }

    [TestMethod]
    public async Task EjectedBackend_IsReadmittedAfterTheBreakAndATrialSuccessClosesIt()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var failing = true;
        await using var flaky = await TestBackend.StartAsync("a-flaky", context => failing ? Fail(context) : context.Response.WriteAsync("a-flaky"));
        await using var good = await TestBackend.StartAsync("b-good");
        await using var balancer = await StartAsync(clock, flaky, good);
        var state = balancer.Registry.GetPool("default")!.FindBackend("a-flaky")!;
        await DriveUntilAsync(balancer, () => state.IsEjected);

        failing = false;
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.IsFalse(state.IsEjected, "the break (30 s) is over: a trial request is admitted");
        await DriveUntilAsync(balancer, () => state.BreakerState == BreakerState.Closed);

        Assert.IsFalse(state.IsEjected);
        Assert.AreEqual(BreakerState.Closed, state.BreakerState);
    }

    [TestMethod]
    public async Task FailedTrial_EjectsAgainForTwiceAsLong()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var bad = await TestBackend.StartAsync("a-bad", Fail);
        await using var good = await TestBackend.StartAsync("b-good");
        await using var balancer = await StartAsync(clock, bad, good);
        var state = balancer.Registry.GetPool("default")!.FindBackend("a-bad")!;
        await DriveUntilAsync(balancer, () => state.IsEjected);
        var firstUntil = state.EjectedUntil!.Value;

        clock.Advance(TimeSpan.FromSeconds(30));
        await DriveUntilAsync(balancer, () => state.IsEjected);

        Assert.AreEqual(2, state.EjectionCount);
        Assert.AreEqual(TimeSpan.FromSeconds(60), state.EjectedUntil!.Value - clock.GetUtcNow(), "second ejection lasts twice the base");
        Assert.IsTrue(state.EjectedUntil > firstUntil);
    }

    [TestMethod]
    public async Task EveryBackendFailing_NoMoreThanTheAllowedShareIsEjected()
    {
        await using var b1 = await TestBackend.StartAsync("b1", Fail);
        await using var b2 = await TestBackend.StartAsync("b2", Fail);
        await using var b3 = await TestBackend.StartAsync("b3", Fail);
        await using var balancer = await StartAsync(new FakeTimeProvider(DateTimeOffset.UtcNow), b1, b2, b3);

        for (var i = 0; i < 60; i++)
        {
            using var response = await balancer.Client.GetAsync("/");
        }

        Assert.AreEqual(1, balancer.Registry.GetPool("default")!.Backends.Count(b => b.IsEjected), "10% of three rounds down, but one may always go");
    }

    [TestMethod]
    public async Task ClientErrors_DoNotEject()
    {
        await using var notFound = await TestBackend.StartAsync("a-404", context =>
        {
            context.Response.StatusCode = 404;
            return Task.CompletedTask;
        });
        await using var good = await TestBackend.StartAsync("b-good");
        await using var balancer = await StartAsync(new FakeTimeProvider(DateTimeOffset.UtcNow), notFound, good);

        for (var i = 0; i < 30; i++)
        {
            using var response = await balancer.Client.GetAsync("/");
        }

        Assert.IsFalse(balancer.Registry.GetPool("default")!.FindBackend("a-404")!.IsEjected);
        Assert.AreEqual(15, notFound.Received.Count);
    }

    [TestMethod]
    public async Task PassiveDisabled_NothingIsEjected()
    {
        await using var bad = await TestBackend.StartAsync("a-bad", Fail);
        await using var good = await TestBackend.StartAsync("b-good");
        var settings = BalancerHost.PoolSettings(bad, good);
        settings["LoadBalancer:Pools:default:HealthCheck:Passive:Enabled"] = "false";
        await using var balancer = await BalancerHost.StartAsync(settings);

        for (var i = 0; i < 30; i++)
        {
            using var response = await balancer.Client.GetAsync("/");
        }

        Assert.AreEqual(15, bad.Received.Count);
        Assert.IsFalse(balancer.Registry.GetPool("default")!.FindBackend("a-bad")!.IsEjected);
    }

    private static Task Fail(HttpContext context)
    {
        context.Response.StatusCode = 500;
        return Task.CompletedTask;
    }

    private static Task<BalancerHost> StartAsync(FakeTimeProvider clock, params TestBackend[] backends)
        => BalancerHost.StartWithClockAsync(BalancerHost.PoolSettings(backends), clock);

    /// <summary>Sends requests one at a time until <paramref name="condition"/> holds (at most 100).</summary>
    private static async Task DriveUntilAsync(BalancerHost balancer, Func<bool> condition)
    {
        for (var i = 0; i < 100 && !condition(); i++)
        {
            using var response = await balancer.Client.GetAsync("/");
        }

        Assert.IsTrue(condition(), "the condition did not hold after 100 requests");
    }
}
