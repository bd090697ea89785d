using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Balancing.AspNetCore.Caching;
using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Balancing.AspNetCore.Tests.Caching;

/// <summary>The response cache on a real Kestrel balancer in front of real Kestrel backends, with a fake clock for freshness.</summary>
[TestClass]
public sealed class ResponseCacheTests
{
    [TestMethod]
    public async Task FreshResponse_IsServedFromCacheWithAge_UntilStale()
    {
        var served = 0;
        await using var backend = await TestBackend.StartAsync("b1", context =>
        {
            context.Response.Headers.CacheControl = "max-age=60";
            return context.Response.WriteAsync($"v{Interlocked.Increment(ref served)}");
        });
        var clock = new FakeTimeProvider();
        await using var balancer = await StartAsync(backend, clock);

        using var first = await balancer.Client.GetAsync("/a");
        clock.Advance(TimeSpan.FromSeconds(30));
        using var second = await balancer.Client.GetAsync("/a");
        clock.Advance(TimeSpan.FromSeconds(31));
        using var third = await balancer.Client.GetAsync("/a");

        Assert.AreEqual("v1", await first.Content.ReadAsStringAsync());
        Assert.IsFalse(first.Headers.Age.HasValue, "a response fresh from the backend has no Age");
        Assert.AreEqual("v1", await second.Content.ReadAsStringAsync(), "fresh: served from the cache");
        Assert.AreEqual(TimeSpan.FromSeconds(30), second.Headers.Age);
        Assert.AreEqual("v2", await third.Content.ReadAsStringAsync(), "stale after 61 s: fetched again");
        Assert.AreEqual(2, backend.Received.Count);
    }

    [TestMethod]
    public async Task HeadRequest_IsAnsweredFromTheStoredGet()
    {
        await using var backend = await TestBackend.StartAsync("b1", Cacheable("max-age=60"));
        await using var balancer = await StartAsync(backend);

        using var get = await balancer.Client.GetAsync("/a");
        using var head = await balancer.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/a"));

        Assert.AreEqual(HttpStatusCode.OK, head.StatusCode);
        Assert.AreEqual(get.Content.Headers.ContentLength, head.Content.Headers.ContentLength);
        Assert.AreEqual(1, backend.Received.Count);
    }

    [TestMethod]
    [DataRow("Set-Cookie", "session=abc")]
    [DataRow("Cache-Control", "private, max-age=60")]
    [DataRow("Cache-Control", "no-store, max-age=60")]
    [DataRow("Vary", "*")]
    public async Task ResponseThatMustNotBeShared_IsNeverServedToAnotherRequest(string header, string value)
    {
        await using var backend = await TestBackend.StartAsync("b1", context =>
        {
            context.Response.Headers.CacheControl = "max-age=60";
            context.Response.Headers.Append(header, value);
            return context.Response.WriteAsync(context.Request.Headers["X-User"].ToString());
        });
        await using var balancer = await StartAsync(backend);

        var alice = await GetAsync(balancer, "/a", ("X-User", "alice"));
        var bob = await GetAsync(balancer, "/a", ("X-User", "bob"));

        Assert.AreEqual("alice", alice);
        Assert.AreEqual("bob", bob, "bob must get his own response, not alice's");
        Assert.AreEqual(2, backend.Received.Count);
    }

    [TestMethod]
    public async Task RequestWithAuthorization_IsNotStored_UnlessTheResponseIsPublic()
    {
        await using var backend = await TestBackend.StartAsync("b1", context =>
        {
            context.Response.Headers.CacheControl = context.Request.Path == "/public" ? "public, max-age=60" : "max-age=60";
            return context.Response.WriteAsync(context.Request.Headers.Authorization.ToString());
        });
        await using var balancer = await StartAsync(backend);

        var alice = await GetAsync(balancer, "/private", ("Authorization", "Bearer alice"));
        var anonymous = await GetAsync(balancer, "/private");
        var first = await GetAsync(balancer, "/public", ("Authorization", "Bearer alice"));
        var second = await GetAsync(balancer, "/public", ("Authorization", "Bearer bob"));

        Assert.AreEqual("Bearer alice", alice);
        Assert.AreEqual(string.Empty, anonymous, "alice's answer must not be served to anyone else");
        Assert.AreEqual("Bearer alice", first);
        Assert.AreEqual("Bearer alice", second, "public: the backend said it may be shared");
        Assert.AreEqual(3, backend.Received.Count);
    }

    [TestMethod]
    public async Task SharedMaxAge_WinsOverMaxAge()
    {
        await using var backend = await TestBackend.StartAsync("b1", Cacheable("max-age=100, s-maxage=10"));
        var clock = new FakeTimeProvider();
        await using var balancer = await StartAsync(backend, clock);

        await GetAsync(balancer, "/a");
        clock.Advance(TimeSpan.FromSeconds(5));
        await GetAsync(balancer, "/a");
        Assert.AreEqual(1, backend.Received.Count, "fresh for 10 s");

        clock.Advance(TimeSpan.FromSeconds(6));
        await GetAsync(balancer, "/a");
        Assert.AreEqual(2, backend.Received.Count, "stale after s-maxage, although max-age says 100 s");
    }

    [TestMethod]
    public async Task Expires_GivesFreshnessRelativeToDate()
    {
        await using var backend = await TestBackend.StartAsync("b1", context =>
        {
            var now = DateTimeOffset.UtcNow;
            context.Response.Headers.Date = now.ToString("R");
            context.Response.Headers.Expires = now.AddSeconds(20).ToString("R");
            return context.Response.WriteAsync("x");
        });
        var clock = new FakeTimeProvider();
        await using var balancer = await StartAsync(backend, clock);

        await GetAsync(balancer, "/a");
        clock.Advance(TimeSpan.FromSeconds(10));
        await GetAsync(balancer, "/a");
        Assert.AreEqual(1, backend.Received.Count);

        clock.Advance(TimeSpan.FromSeconds(11));
        await GetAsync(balancer, "/a");
        Assert.AreEqual(2, backend.Received.Count);
    }

    [TestMethod]
    public async Task Vary_KeepsOneVariantPerHeaderValue()
    {
        await using var backend = await TestBackend.StartAsync("b1", context =>
        {
            context.Response.Headers.CacheControl = "max-age=60";
            context.Response.Headers.Vary = "Accept-Language";
            return context.Response.WriteAsync(context.Request.Headers.AcceptLanguage.ToString());
        });
        await using var balancer = await StartAsync(backend);

        var en = await GetAsync(balancer, "/a", ("Accept-Language", "en"));
        var fr = await GetAsync(balancer, "/a", ("Accept-Language", "fr"));
        var enAgain = await GetAsync(balancer, "/a", ("Accept-Language", "en"));
        var frAgain = await GetAsync(balancer, "/a", ("Accept-Language", "fr"));

        Assert.AreEqual("en", en);
        Assert.AreEqual("fr", fr);
        Assert.AreEqual("en", enAgain);
        Assert.AreEqual("fr", frAgain);
        Assert.AreEqual(2, backend.Received.Count, "one request per variant");
    }

    [TestMethod]
    public async Task StaleResponseWithETag_IsRevalidated_AndServedWholeOn304()
    {
        await using var backend = await TestBackend.StartAsync("b1", context =>
        {
            context.Response.Headers.CacheControl = "max-age=10";
            context.Response.Headers.ETag = "\"v1\"";
            if (context.Request.Headers.IfNoneMatch == "\"v1\"")
            {
                context.Response.StatusCode = StatusCodes.Status304NotModified;
                return Task.CompletedTask;
            }

            return context.Response.WriteAsync("body-v1");
        });
        var clock = new FakeTimeProvider();
        await using var balancer = await StartAsync(backend, clock);

        await GetAsync(balancer, "/a");
        clock.Advance(TimeSpan.FromSeconds(11));
        using var revalidated = await balancer.Client.GetAsync("/a");
        using var hit = await balancer.Client.GetAsync("/a");

        Assert.AreEqual(HttpStatusCode.OK, revalidated.StatusCode);
        Assert.AreEqual("body-v1", await revalidated.Content.ReadAsStringAsync());
        Assert.AreEqual("body-v1", await hit.Content.ReadAsStringAsync(), "the 304 made the stored response fresh again");
        var received = backend.Received.ToArray();
        Assert.HasCount(2, received);
        Assert.IsFalse(received[0].Headers.ContainsKey("If-None-Match"));
        CollectionAssert.AreEqual(new[] { "\"v1\"" }, received[1].Headers["If-None-Match"]);
    }

    [TestMethod]
    public async Task ClientConditionalRequest_MatchingTheStoredETag_Gets304FromTheCache()
    {
        await using var backend = await TestBackend.StartAsync("b1", context =>
        {
            context.Response.Headers.CacheControl = "max-age=60";
            context.Response.Headers.ETag = "\"v1\"";
            return context.Response.WriteAsync("body-v1");
        });
        await using var balancer = await StartAsync(backend);

        await GetAsync(balancer, "/a");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/a");
        request.Headers.TryAddWithoutValidation("If-None-Match", "W/\"v1\"");
        using var response = await balancer.Client.SendAsync(request);

        Assert.AreEqual(HttpStatusCode.NotModified, response.StatusCode);
        Assert.AreEqual("\"v1\"", response.Headers.ETag?.ToString());
        Assert.AreEqual(1, backend.Received.Count);
    }

    [TestMethod]
    public async Task RequestNoCache_AsksTheBackend_AndNoStoreLeavesTheCacheAlone()
    {
        var served = 0;
        await using var backend = await TestBackend.StartAsync("b1", context =>
        {
            context.Response.Headers.CacheControl = "max-age=60";
            return context.Response.WriteAsync($"v{Interlocked.Increment(ref served)}");
        });
        await using var balancer = await StartAsync(backend);

        var first = await GetAsync(balancer, "/a");
        var noCache = await GetAsync(balancer, "/a", ("Cache-Control", "no-cache"));
        var afterNoCache = await GetAsync(balancer, "/a");
        var noStore = await GetAsync(balancer, "/a", ("Cache-Control", "no-store"));
        var afterNoStore = await GetAsync(balancer, "/a");

        Assert.AreEqual("v1", first);
        Assert.AreEqual("v2", noCache, "no-cache: not answered from the cache");
        Assert.AreEqual("v2", afterNoCache, "the no-cache answer replaced the stored one");
        Assert.AreEqual("v3", noStore);
        Assert.AreEqual("v2", afterNoStore, "no-store: its answer was not stored");
    }

    [TestMethod]
    public async Task FullCache_EvictsTheLeastRecentlyUsedEntry()
    {
        // Four 20 KB bodies; the smallest allowed cache (64 KiB) holds three.
        var body = new string('x', 20_000);
        await using var backend = await TestBackend.StartAsync("b1", Cacheable("max-age=600", body));
        await using var balancer = await StartAsync(backend, settings: new()
        {
            ["LoadBalancer:Caching:SizeLimit"] = "65536",
        });

        await GetAsync(balancer, "/1");
        await GetAsync(balancer, "/2");
        await GetAsync(balancer, "/3");
        await GetAsync(balancer, "/1");
        Assert.AreEqual(3, backend.Received.Count, "/1 was served from the cache, which makes it the most recently used");

        await GetAsync(balancer, "/4");
        await GetAsync(balancer, "/1");
        await GetAsync(balancer, "/3");
        await GetAsync(balancer, "/4");
        Assert.AreEqual(4, backend.Received.Count, "/1, /3 and /4 are still stored");

        await GetAsync(balancer, "/2");
        Assert.AreEqual(5, backend.Received.Count, "/2, the least recently used, was evicted to make room for /4");
        Assert.IsTrue(balancer.Services.GetRequiredService<ResponseCache>().Size <= 65536);
    }

    [TestMethod]
    public async Task ConcurrentMisses_MakeOneBackendRequest()
    {
        const int Clients = 50;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrived = 0;
        await using var backend = await TestBackend.StartAsync("b1", async context =>
        {
            Interlocked.Increment(ref arrived);
            await release.Task;
            context.Response.Headers.CacheControl = "max-age=60";
            await context.Response.WriteAsync("shared");
        });
        await using var balancer = await StartAsync(backend);
        var cache = balancer.Services.GetRequiredService<ResponseCache>();
        using var metrics = new MetricCollector<long>(balancer.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), "Balancing", "balancing.cache.requests");
        using var handler = new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = Clients };
        using var client = new HttpClient(handler) { BaseAddress = balancer.BaseUri };

        var requests = Enumerable.Range(0, Clients).Select(_ => client.GetStringAsync("/a")).ToArray();
        await Eventually.TrueAsync(() => Volatile.Read(ref arrived) == 1 && cache.Waiters == Clients - 1);
        release.SetResult();
        var bodies = await Task.WhenAll(requests);

        Assert.IsTrue(bodies.All(b => b == "shared"));
        Assert.AreEqual(1, backend.Received.Count);
        metrics.RecordObservableInstruments();
        var results = metrics.GetMeasurementSnapshot().GroupBy(m => (string)m.Tags["result"]!).ToDictionary(g => g.Key, g => g.Sum(m => m.Value));
        Assert.AreEqual(1, results["miss"]);
        Assert.AreEqual(Clients - 1, results["coalesced"]);
    }

    [TestMethod]
    public async Task ConcurrentMisses_ForAResponseThatIsNotStored_EachGetTheirOwn()
    {
        const int Clients = 5;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrived = 0;
        await using var backend = await TestBackend.StartAsync("b1", async context =>
        {
            if (Interlocked.Increment(ref arrived) == 1)
            {
                await release.Task;
            }

            context.Response.Headers.CacheControl = "private, max-age=60";
            await context.Response.WriteAsync(context.Request.Headers["X-User"].ToString());
        });
        await using var balancer = await StartAsync(backend);
        var cache = balancer.Services.GetRequiredService<ResponseCache>();

        var requests = Enumerable.Range(0, Clients).Select(i => GetAsync(balancer, "/a", ("X-User", $"u{i}"))).ToArray();
        await Eventually.TrueAsync(() => Volatile.Read(ref arrived) == 1 && cache.Waiters == Clients - 1);
        release.SetResult();
        var bodies = await Task.WhenAll(requests);

        CollectionAssert.AreEqual(Enumerable.Range(0, Clients).Select(i => $"u{i}").ToArray(), bodies, "nobody got another's private answer");
        Assert.AreEqual(Clients, backend.Received.Count);
    }

    [TestMethod]
    public async Task UrlWhoseResponseWasNotStored_ItsNextRequestsGoSideBySide()
    {
        // Once /a is known not to be stored, three concurrent requests must all reach the backend together: the backend
        // answers none of them until it holds all three, so requests queued behind a leader would never finish.
        const int Clients = 3;
        var allArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrived = 0;
        await using var backend = await TestBackend.StartAsync("b1", async context =>
        {
            var count = Interlocked.Increment(ref arrived);
            if (count > 1)
            {
                if (count == Clients + 1)
                {
                    allArrived.SetResult();
                }

                await allArrived.Task;
            }

            await context.Response.WriteAsync("not cacheable");
        });
        await using var balancer = await StartAsync(backend);
        var cache = balancer.Services.GetRequiredService<ResponseCache>();
        Assert.AreEqual("not cacheable", await GetAsync(balancer, "/a"));

        var bodies = await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => GetAsync(balancer, "/a"))).WaitAsync(Eventually.Patience);

        Assert.IsTrue(bodies.All(b => b == "not cacheable"));
        Assert.AreEqual(Clients + 1, backend.Received.Count);
        Assert.AreEqual(0, cache.Waiters);
    }

    [TestMethod]
    public async Task ConcurrentMisses_ForOtherVariants_StoreTheirOwn()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrived = 0;
        await using var backend = await TestBackend.StartAsync("b1", async context =>
        {
            if (Interlocked.Increment(ref arrived) == 1)
            {
                await release.Task;
            }

            context.Response.Headers.CacheControl = "max-age=60";
            context.Response.Headers.Vary = "Accept-Language";
            await context.Response.WriteAsync(context.Request.Headers.AcceptLanguage.ToString());
        });
        await using var balancer = await StartAsync(backend);
        var cache = balancer.Services.GetRequiredService<ResponseCache>();

        var en = GetAsync(balancer, "/a", ("Accept-Language", "en"));
        await Eventually.TrueAsync(() => Volatile.Read(ref arrived) == 1);
        var fr = GetAsync(balancer, "/a", ("Accept-Language", "fr"));
        await Eventually.TrueAsync(() => cache.Waiters == 1);
        release.SetResult();

        Assert.AreEqual("en", await en);
        Assert.AreEqual("fr", await fr, "the waiter does not take another variant");
        Assert.AreEqual("fr", await GetAsync(balancer, "/a", ("Accept-Language", "fr")));
        Assert.AreEqual("en", await GetAsync(balancer, "/a", ("Accept-Language", "en")));
        Assert.AreEqual(2, backend.Received.Count, "both variants were stored");
    }

    [TestMethod]
    public async Task SizeGauge_ReportsTheStoredBytes()
    {
        await using var backend = await TestBackend.StartAsync("b1", Cacheable("max-age=60", new string('z', 10_000)));
        await using var balancer = await StartAsync(backend);
        using var gauge = new MetricCollector<long>(balancer.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), "Balancing", "balancing.cache.size");

        gauge.RecordObservableInstruments();
        var empty = gauge.LastMeasurement?.Value;
        await GetAsync(balancer, "/a");
        gauge.RecordObservableInstruments();

        Assert.AreEqual(0, empty);
        Assert.IsTrue(gauge.LastMeasurement!.Value is > 10_000 and < 12_000, $"{gauge.LastMeasurement.Value} bytes");
    }

    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public async Task BodyOverMaxEntrySize_StreamsWhole_AndIsNotStored(bool declaredLength)
    {
        var body = new string('y', 5000);
        await using var backend = await TestBackend.StartAsync("b1", async context =>
        {
            context.Response.Headers.CacheControl = "max-age=60";
            if (declaredLength)
            {
                context.Response.ContentLength = body.Length;
            }

            await context.Response.WriteAsync(body[..2500]);
            await context.Response.Body.FlushAsync();
            await context.Response.WriteAsync(body[2500..]);
        });
        await using var balancer = await StartAsync(backend, settings: new()
        {
            ["LoadBalancer:Caching:MaxEntrySize"] = "1000",
        });

        var first = await GetAsync(balancer, "/big");
        var second = await GetAsync(balancer, "/big");

        Assert.AreEqual(body, first);
        Assert.AreEqual(body, second);
        Assert.AreEqual(2, backend.Received.Count);
        var cache = balancer.Services.GetRequiredService<ResponseCache>();
        Assert.AreEqual(1, cache.Count, "only the mark that the URL is not stored");
        Assert.IsLessThan(1_000L, cache.Size, "no body is held");
    }

    [TestMethod]
    public async Task UnsafeMethod_InvalidatesTheStoredResponse()
    {
        await using var backend = await TestBackend.StartAsync("b1", Cacheable("max-age=60"));
        await using var balancer = await StartAsync(backend);

        await GetAsync(balancer, "/a");
        using var post = await balancer.Client.PostAsync("/a", new StringContent("change"));
        await GetAsync(balancer, "/a");

        Assert.AreEqual(3, backend.Received.Count, "the POST's success made the stored GET response outdated");
    }

    [TestMethod]
    public async Task Caching_IsOffByDefault()
    {
        await using var backend = await TestBackend.StartAsync("b1", Cacheable("max-age=60"));
        await using var balancer = await BalancerHost.StartAsync(BalancerHost.PoolSettings(backend));

        using var first = await balancer.Client.GetAsync("/a");
        using var second = await balancer.Client.GetAsync("/a");

        Assert.AreEqual(2, backend.Received.Count);
        Assert.IsFalse(second.Headers.Age.HasValue);
        Assert.AreEqual(0, balancer.Services.GetRequiredService<ResponseCache>().Count);
    }

    [TestMethod]
    public async Task Route_CanTurnCachingOffForItself()
    {
        await using var backend = await TestBackend.StartAsync("b1", Cacheable("max-age=60"));
        var settings = BalancerHost.PoolSettings(backend);
        settings["LoadBalancer:Caching:Enabled"] = "true";
        settings["LoadBalancer:Routes:live:Path"] = "/live/{**rest}";
        settings["LoadBalancer:Routes:live:Pool"] = "default";
        settings["LoadBalancer:Routes:live:Caching"] = "false";
        settings["LoadBalancer:Routes:rest:Path"] = "/{**rest}";
        settings["LoadBalancer:Routes:rest:Pool"] = "default";
        await using var balancer = await BalancerHost.StartAsync(settings);

        await GetAsync(balancer, "/live/a");
        await GetAsync(balancer, "/live/a");
        await GetAsync(balancer, "/static/a");
        await GetAsync(balancer, "/static/a");

        Assert.AreEqual(3, backend.Received.Count(r => r.Path.StartsWith("/live", StringComparison.Ordinal)) + backend.Received.Count(r => r.Path.StartsWith("/static", StringComparison.Ordinal)));
        Assert.AreEqual(1, backend.Received.Count(r => r.Path == "/static/a"));
    }

    [TestMethod]
    public async Task Purge_RemovesAllOrByPrefix()
    {
        await using var backend = await TestBackend.StartAsync("b1", Cacheable("max-age=60"));
        await using var balancer = await StartAsync(backend, configureApp: app =>
        {
            app.MapLoadBalancerCachePurge();
            app.UseLoadBalancer();
        });

        await GetAsync(balancer, "/a/1");
        await GetAsync(balancer, "/b/1");
        using var byPrefix = await balancer.Client.DeleteAsync("/_lb/cache?prefix=/a");
        await GetAsync(balancer, "/a/1");
        await GetAsync(balancer, "/b/1");
        Assert.AreEqual(3, backend.Received.Count, "/a/1 was purged, /b/1 was not");

        using var all = await balancer.Client.DeleteAsync("/_lb/cache");
        await GetAsync(balancer, "/b/1");

        Assert.AreEqual(HttpStatusCode.OK, byPrefix.StatusCode);
        Assert.AreEqual(1, JsonDocument.Parse(await byPrefix.Content.ReadAsStringAsync()).RootElement.GetProperty("removed").GetInt32());
        Assert.AreEqual(HttpStatusCode.OK, all.StatusCode);
        Assert.AreEqual(4, backend.Received.Count, "everything was purged");
    }

    [TestMethod]
    public async Task Purge_RefusesRemoteClients()
    {
        var address = RemoteAddress.NonLoopbackIPv4();
        await using var backend = await TestBackend.StartAsync("b1", Cacheable("max-age=60"));
        await using var balancer = await StartAsync(backend, configureApp: app =>
        {
            app.MapLoadBalancerCachePurge();
            app.UseLoadBalancer();
        }, listenOn: IPAddress.Any);
        using var client = new HttpClient();
        var port = balancer.BaseUri.Port;

        using var first = await client.GetAsync($"http://127.0.0.1:{port}/a");
        using var refused = await client.DeleteAsync($"http://{address}:{port}/_lb/cache");
        using var second = await client.GetAsync($"http://127.0.0.1:{port}/a");

        Assert.AreEqual(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.IsTrue(second.Headers.Age.HasValue, "served from the cache: the purge was refused");
        Assert.AreEqual(1, backend.Received.Count, "the refused purge removed nothing");
    }

    [TestMethod]
    public async Task Stats_ShowHitsAndMisses()
    {
        await using var backend = await TestBackend.StartAsync("b1", Cacheable("max-age=60"));
        await using var balancer = await StartAsync(backend, configureApp: app =>
        {
            app.MapLoadBalancerStats();
            app.UseLoadBalancer();
        });

        await GetAsync(balancer, "/a");
        await GetAsync(balancer, "/a");
        await GetAsync(balancer, "/a");

        await Eventually.TrueAsync(async () =>
        {
            using var json = JsonDocument.Parse(await balancer.Client.GetStringAsync("/_lb/stats"));
            var cache = json.RootElement.GetProperty("pools")[0].GetProperty("cache");
            return cache.GetProperty("hits").GetInt64() == 2 && cache.GetProperty("misses").GetInt64() == 1;
        }, Eventually.Patience);
    }

    [TestMethod]
    [DataRow("max-age=60, stale-if-error=300", true)]
    [DataRow("max-age=60, must-revalidate, stale-if-error=300", false)]
    [DataRow("max-age=60", false)]
    public async Task BackendAnswering503_StaleResponseStandsInOnlyWithinItsStaleIfError(string cacheControl, bool servedStale)
    {
        var failing = false;
        await using var backend = await TestBackend.StartAsync("b1", context =>
        {
            if (Volatile.Read(ref failing))
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return Task.CompletedTask;
            }

            context.Response.Headers.CacheControl = cacheControl;
            return context.Response.WriteAsync("v1");
        });
        var clock = new FakeTimeProvider();

        // Without retries, so that each request the test sends is one backend exchange.
        await using var balancer = await StartAsync(backend, clock, new() { ["LoadBalancer:Pools:default:Retry:Enabled"] = "false" });
        using var metrics = new MetricCollector<long>(balancer.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), "Balancing", "balancing.cache.requests");
        Assert.AreEqual("v1", await GetAsync(balancer, "/a"));

        Volatile.Write(ref failing, true);
        clock.Advance(TimeSpan.FromSeconds(120));
        using (var stale = await balancer.Client.GetAsync("/a"))
        {
            Assert.AreEqual(servedStale ? HttpStatusCode.OK : HttpStatusCode.ServiceUnavailable, stale.StatusCode);
            if (servedStale)
            {
                Assert.AreEqual("v1", await stale.Content.ReadAsStringAsync());
                Assert.AreEqual(TimeSpan.FromSeconds(120), stale.Headers.Age);
                Assert.AreEqual(1, balancer.Logs.GetSnapshot().Count(r => r.Id.Id == 106));
            }
        }

        // Stale for 360 s, past the 300 s allowance: the backend's error goes through.
        clock.Advance(TimeSpan.FromSeconds(300));
        using (var late = await balancer.Client.GetAsync("/a"))
        {
            Assert.AreEqual(HttpStatusCode.ServiceUnavailable, late.StatusCode);
        }

        Assert.HasCount(3, backend.Received);
        metrics.RecordObservableInstruments();
        var totals = metrics.GetMeasurementSnapshot().ToDictionary(m => (string)m.Tags["result"]!, m => m.Value);
        Assert.AreEqual(servedStale ? 1 : 0, totals.GetValueOrDefault("stale"));
    }

    [TestMethod]
    public async Task BackendUnreachable_StaleResponseWithStaleIfErrorIsServed()
    {
        var backend = await TestBackend.StartAsync("b1", context =>
        {
            context.Response.Headers.CacheControl = "max-age=60, stale-if-error=86400";
            return context.Response.WriteAsync("kept");
        });
        var clock = new FakeTimeProvider();
        await using var balancer = await StartAsync(backend, clock);
        Assert.AreEqual("kept", await GetAsync(balancer, "/a"));

        await backend.DisposeAsync();
        clock.Advance(TimeSpan.FromHours(1));

        using var response = await balancer.Client.GetAsync("/a");
        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual("kept", await response.Content.ReadAsStringAsync());
    }

    [TestMethod]
    public async Task Results_AreRunningTotalsInMetricsAndStats_AndUnsafeMethodsAreNotCounted()
    {
        await using var backend = await TestBackend.StartAsync("b1", context => context.Response.WriteAsync("not stored"));
        await using var balancer = await StartAsync(backend, configureApp: app =>
        {
            app.MapLoadBalancerStats();
            app.UseLoadBalancer();
        });
        using var metrics = new MetricCollector<long>(balancer.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), "Balancing", "balancing.cache.requests");

        // The first GET is a miss whose response is not stored; the URL is then marked and the next two are bypasses.
        await GetAsync(balancer, "/plain");
        await GetAsync(balancer, "/plain");
        await GetAsync(balancer, "/plain");
        using (var post = await balancer.Client.PostAsync("/plain", new StringContent("x")))
        {
            Assert.AreEqual(HttpStatusCode.OK, post.StatusCode);
        }

        metrics.RecordObservableInstruments();
        var totals = metrics.GetMeasurementSnapshot().ToDictionary(m => (string)m.Tags["result"]!, m => m.Value);
        Assert.AreEqual(1, totals["miss"]);
        Assert.AreEqual(2, totals["bypass"]);
        Assert.IsFalse(totals.ContainsKey("hit"), "a result that never happened has no series");

        // A second observation reports the same totals, not what was added since the first.
        metrics.Clear();
        metrics.RecordObservableInstruments();
        Assert.AreEqual(2, metrics.GetMeasurementSnapshot().Single(m => (string)m.Tags["result"]! == "bypass").Value);

        using var json = JsonDocument.Parse(await balancer.Client.GetStringAsync("/_lb/stats"));
        var cache = json.RootElement.GetProperty("pools")[0].GetProperty("cache");
        Assert.AreEqual(1, cache.GetProperty("misses").GetInt64());
        Assert.AreEqual(2, cache.GetProperty("bypassed").GetInt64());
        Assert.AreEqual(0, cache.GetProperty("hits").GetInt64());
    }

    [TestMethod]
    [DataRow("LoadBalancer:Caching:SizeLimit", "10")]
    [DataRow("LoadBalancer:Caching:MaxEntrySize", "-1")]
    [DataRow("LoadBalancer:Caching:MaxEntries", "5")]
    public async Task InvalidCachingSetting_FailsStartWithTheKey(string key, string value)
    {
        var settings = new Dictionary<string, string?>
        {
            ["LoadBalancer:Pools:default:Backends:b1:Address"] = "http://127.0.0.1:9001",
            [key] = value,
        };

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => BalancerHost.StartAsync(settings));

        StringAssert.Contains(error.Message, key);
    }

    private static RequestDelegate Cacheable(string cacheControl, string? body = null)
        => context =>
        {
            context.Response.Headers.CacheControl = cacheControl;
            return context.Response.WriteAsync(body ?? context.Request.Path.Value!);
        };

    private static Task<BalancerHost> StartAsync(
        TestBackend backend,
        FakeTimeProvider? clock = null,
        Dictionary<string, string?>? settings = null,
        Action<WebApplication>? configureApp = null,
        IPAddress? listenOn = null)
    {
        var all = BalancerHost.PoolSettings(backend);
        all["LoadBalancer:Caching:Enabled"] = "true";
        foreach (var (key, value) in settings ?? [])
        {
            all[key] = value;
        }

        return clock is null
            ? BalancerHost.StartAsync(all, configureApp, listenOn: listenOn)
            : BalancerHost.StartWithClockAsync(all, clock, configureApp);
    }

    private static async Task<string> GetAsync(BalancerHost balancer, string path, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await balancer.Client.SendAsync(request);
        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadAsStringAsync();
    }

}
