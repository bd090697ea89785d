using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Balancing.AspNetCore.Tests.Resilience;

[TestClass]
public sealed class FailoverTests
{
    [TestMethod]
    public async Task Get_OneBackendRefusesConnections_EveryRequestSucceedsElsewhere()
    {
        await using var alive = await TestBackend.StartAsync("alive");
        var settings = BalancerHost.PoolSettings(alive);
        settings["LoadBalancer:Pools:default:Backends:gone:Address"] = $"http://127.0.0.1:{BalancerHost.ClosedPort()}";
        await using var balancer = await BalancerHost.StartAsync(settings);

        for (var i = 0; i < 10; i++)
        {
            using var response = await balancer.Client.GetAsync("/");
            Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.AreEqual(10, alive.Received.Count);
        Assert.IsTrue(balancer.Registry.GetPool("default")!.FindBackend("gone")!.TotalFailures >= 1, "the dead backend was tried");
    }

    [TestMethod]
    public async Task Get_WithTotalTimeout_StillFailsOverToTheLiveBackend()
    {
        await using var alive = await TestBackend.StartAsync("b-alive");
        var settings = new Dictionary<string, string?>
        {
            ["LoadBalancer:Pools:default:Backends:a-gone:Address"] = $"http://127.0.0.1:{BalancerHost.ClosedPort()}",
            ["LoadBalancer:Pools:default:Backends:b-alive:Address"] = alive.Address,
            ["LoadBalancer:Pools:default:Retry:TotalTimeout"] = "00:00:30",
        };
        await using var balancer = await BalancerHost.StartAsync(settings);

        for (var i = 0; i < 4; i++)
        {
            using var response = await balancer.Client.GetAsync("/");
            Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.AreEqual(4, alive.Received.Count);
    }

    [TestMethod]
    public async Task Get_BackendStopsUnderSteadyLoad_ClientSeesNoFailure()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        var b3 = await TestBackend.StartAsync("b3");
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(b1, b2, b3));
        var failures = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        // Three clients: the retry budget always allows three retries in flight (MinRetryConcurrency), so even if all
        // three hit the stopping backend at once, each is retried; a fourth could be refused by the budget, by design.
        var traffic = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var response = await balancer.Client.GetAsync("/", CancellationToken.None);
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        failures.Enqueue(((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
                    }
                }
                catch (HttpRequestException ex)
                {
                    failures.Enqueue(ex.Message);
                }
            }
        })).ToArray();

        await Eventually.TrueAsync(() => b3.Received.Count >= 20);
        await b3.DisposeAsync();
        var servedAfter = b1.Received.Count + b2.Received.Count;
        await Eventually.TrueAsync(() => b1.Received.Count + b2.Received.Count >= servedAfter + 200);
        await stop.CancelAsync();
        await Task.WhenAll(traffic);

        Assert.IsTrue(failures.IsEmpty, string.Join("; ", failures.Take(5)));
    }

    [TestMethod]
    public async Task Post_BackendFailsAfterReceivingIt_IsNotReplayed()
    {
        await using var breaking = await TestBackend.StartAsync("breaking", async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            await reader.ReadToEndAsync();
            context.Abort();
        });
        await using var other = await TestBackend.StartAsync("other");
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(breaking, other));

        using var response = await balancer.Client.PostAsync("/orders", new StringContent("one order"));

        Assert.AreEqual(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.AreEqual(1, breaking.Received.Count, "the backend saw the POST once");
        Assert.IsTrue(other.Received.IsEmpty, "the POST was not sent anywhere else");
    }

    [TestMethod]
    public async Task Put_SmallBodyBackendBreaks_IsRetriedElsewhereWithTheSameBody()
    {
        await using var breaking = await TestBackend.StartAsync("a-breaking", async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            await reader.ReadToEndAsync();
            context.Abort();
        });
        await using var fine = await TestBackend.StartAsync("b-fine", async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            await context.Response.WriteAsync("stored:" + await reader.ReadToEndAsync());
        });
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(breaking, fine));

        using var response = await balancer.Client.PutAsync("/items/7", new StringContent("item seven"));

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual("stored:item seven", await response.Content.ReadAsStringAsync());
        Assert.AreEqual(1, breaking.Received.Count);
    }

    [TestMethod]
    public async Task Put_BodyOverTheBufferLimit_StreamsAndIsNotRetriedOnceSent()
    {
        await using var breaking = await TestBackend.StartAsync("a-breaking", async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            await reader.ReadToEndAsync();
            context.Abort();
        });
        await using var fine = await TestBackend.StartAsync("b-fine");
        var settings = BalancerHost.PoolSettings(breaking, fine);
        settings["LoadBalancer:Pools:default:Retry:MaxBufferedBodySize"] = "4";
        await using var balancer = await BalancerHost.StartAsync(settings);

        using var response = await balancer.Client.PutAsync("/items/7", new StringContent("item seven"));

        Assert.AreEqual(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.IsTrue(fine.Received.IsEmpty);
    }

    [TestMethod]
    public async Task Post_FirstBackendRefusesConnection_GoesElsewhereWithItsBody()
    {
        await using var alive = await TestBackend.StartAsync("alive", async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            await context.Response.WriteAsync("got:" + await reader.ReadToEndAsync());
        });
        var settings = new Dictionary<string, string?>
        {
            ["LoadBalancer:Pools:default:Backends:a-gone:Address"] = $"http://127.0.0.1:{BalancerHost.ClosedPort()}",
            ["LoadBalancer:Pools:default:Backends:b-alive:Address"] = alive.Address,
        };
        await using var balancer = await BalancerHost.StartAsync(settings);

        using var response = await balancer.Client.PostAsync("/orders", new StringContent("one order"));

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual("got:one order", await response.Content.ReadAsStringAsync());
        Assert.AreEqual(1, alive.Received.Count);
    }

    [TestMethod]
    public async Task Get_BackendAnswers503_IsRetriedOnAnother()
    {
        await using var busy = await TestBackend.StartAsync("a-busy", context =>
        {
            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        });
        await using var fine = await TestBackend.StartAsync("b-fine");
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(busy, fine));

        using var response = await balancer.Client.GetAsync("/");

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual("b-fine", await response.Content.ReadAsStringAsync());
        Assert.AreEqual(1, busy.Received.Count);
    }

    [TestMethod]
    public async Task Post_BackendAnswers503_IsPassedThroughNotRetried()
    {
        await using var busy = await TestBackend.StartAsync("a-busy", context =>
        {
            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        });
        await using var fine = await TestBackend.StartAsync("b-fine");
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(busy, fine));

        using var response = await balancer.Client.PostAsync("/", new StringContent("x"));

        Assert.AreEqual(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.IsTrue(fine.Received.IsEmpty);
    }

    [TestMethod]
    public async Task Get_HangingBackend_CostsOneAttemptTimeoutThenAnotherBackendAnswers()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var hanging = await TestBackend.StartAsync("a-hanging", async context =>
        {
            reached.TrySetResult();
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        });
        await using var fine = await TestBackend.StartAsync("b-fine");
        var settings = BalancerHost.PoolSettings(hanging, fine);
        settings["LoadBalancer:Pools:default:Timeout"] = "00:00:05";
        await using var balancer = await BalancerHost.StartWithClockAsync(settings, clock);

        var pending = balancer.Client.GetAsync("/");
        await reached.Task.WaitAsync(Eventually.Patience);
        clock.Advance(TimeSpan.FromSeconds(5));
        using var response = await pending.WaitAsync(Eventually.Patience);

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual("b-fine", await response.Content.ReadAsStringAsync());
    }

    [TestMethod]
    public async Task Get_AllBackendsDown_Answers502AfterTryingEach()
    {
        var settings = new Dictionary<string, string?>
        {
            ["LoadBalancer:Pools:default:Backends:a:Address"] = $"http://127.0.0.1:{BalancerHost.ClosedPort()}",
            ["LoadBalancer:Pools:default:Backends:b:Address"] = $"http://127.0.0.1:{BalancerHost.ClosedPort()}",
        };
        await using var balancer = await BalancerHost.StartAsync(settings);

        using var response = await balancer.Client.GetAsync("/");

        Assert.AreEqual(HttpStatusCode.BadGateway, response.StatusCode);
        var pool = balancer.Registry.GetPool("default")!;
        Assert.AreEqual(3L, pool.Backends.Sum(b => b.TotalRequests), "MaxAttempts (3) attempts, spread over both backends");
        Assert.IsTrue(pool.Backends.All(b => b.TotalRequests >= 1));
    }

    [TestMethod]
    public async Task Get_RetryBudgetExhausted_DoesNotRetry()
    {
        await using var alive = await TestBackend.StartAsync("b-alive");
        var settings = new Dictionary<string, string?>
        {
            ["LoadBalancer:Pools:default:Backends:a-gone:Address"] = $"http://127.0.0.1:{BalancerHost.ClosedPort()}",
            ["LoadBalancer:Pools:default:Backends:b-alive:Address"] = alive.Address,
            ["LoadBalancer:Pools:default:Retry:BudgetRatio"] = "0",
            ["LoadBalancer:Pools:default:Retry:MinRetryConcurrency"] = "0",
        };
        await using var balancer = await BalancerHost.StartAsync(settings);

        using var response = await balancer.Client.GetAsync("/");

        Assert.AreEqual(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.IsTrue(alive.Received.IsEmpty);
    }

    [TestMethod]
    public async Task Get_MaxAttemptsOne_DoesNotRetry()
    {
        await using var alive = await TestBackend.StartAsync("b-alive");
        var settings = new Dictionary<string, string?>
        {
            ["LoadBalancer:Pools:default:Backends:a-gone:Address"] = $"http://127.0.0.1:{BalancerHost.ClosedPort()}",
            ["LoadBalancer:Pools:default:Backends:b-alive:Address"] = alive.Address,
            ["LoadBalancer:Pools:default:Retry:MaxAttempts"] = "1",
        };
        await using var balancer = await BalancerHost.StartAsync(settings);

        using var response = await balancer.Client.GetAsync("/");

        Assert.AreEqual(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.IsTrue(alive.Received.IsEmpty);
    }

}
