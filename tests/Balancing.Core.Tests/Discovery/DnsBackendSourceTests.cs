using System.Net;
using Balancing.Core.Tests.Infrastructure;
using Balancing.Discovery;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Balancing.Core.Tests.Discovery;

[TestClass]
public sealed class DnsBackendSourceTests
{
    private const string Web = "LoadBalancer:Pools:default:Backends:web";
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    private readonly FakeDnsResolver _resolver = new FakeDnsResolver().Answer("web.internal", "10.0.0.1", "10.0.0.2", "10.0.0.3");
    private readonly FakeTimeProvider _time = new();

    private static Dictionary<string, string?> DnsPool() => new(StringComparer.OrdinalIgnoreCase)
    {
        [$"{Web}:Address"] = "http://web.internal:8080",
        [$"{Web}:Discovery"] = "Dns",
    };

    [TestMethod]
    public async Task Start_NameWithThreeAddresses_GivesThreeBackendsNamedByAddress()
    {
        using var balancer = Create();

        var pool = await balancer.Registry.WaitForPoolAsync("default", p => p.Backends.Length == 3);

        CollectionAssert.AreEqual(
            new[] { "web/10.0.0.1:8080", "web/10.0.0.2:8080", "web/10.0.0.3:8080" },
            pool.Backends.Select(b => b.Id).ToArray());
        Assert.AreEqual(new Uri("http://10.0.0.2:8080/"), pool.Backends[1].Address);
        Assert.AreEqual("web.internal:8080", pool.Backends[1].Host);
    }

    [TestMethod]
    public async Task Refresh_AddressDropped_RemovesItsBackendAndItsRequestInFlightCompletes()
    {
        var blocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new FakeHttpHandler(async (_, _) =>
        {
            await blocked.Task;
            return new HttpResponseMessage(HttpStatusCode.OK);
        });
        using var balancer = Create(handler: handler);
        var pool = await balancer.Registry.WaitForPoolAsync("default", p => p.Backends.Length == 3);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/", UriKind.Relative));
        var sending = balancer.Sender.SendAsync(pool, request, new BalancingContext(null), CancellationToken.None).AsTask();
        await handler.Called.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var busy = pool.Backends.Single(b => b.InFlight == 1);
        var survivors = pool.Backends.Where(b => b != busy).ToArray();

        _resolver.Answer("web.internal", [.. survivors.Select(b => b.Address.Host)]);
        _time.Advance(Interval);
        await balancer.Registry.WaitForPoolAsync("default", p => p.Backends.Length == 2);

        CollectionAssert.AreEqual(survivors, pool.Backends.ToArray(), "the survivors keep their state objects");
        blocked.SetResult();
        var result = await sending;
        result.Complete(BackendOutcome.Success);
        result.Response?.Dispose();
        Assert.AreEqual((ForwardError.None, busy, 0L), (result.Error, result.Backend, (long)busy.InFlight));
    }

    [TestMethod]
    public async Task Refresh_AddressAdded_AddsABackendAndSurvivorsKeepTheirState()
    {
        using var balancer = Create();
        var pool = await balancer.Registry.WaitForPoolAsync("default", p => p.Backends.Length == 3);
        var before = pool.Backends.ToArray();
        before[0].RequestStarted();

        _resolver.Answer("web.internal", "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4");
        _time.Advance(Interval);
        await balancer.Registry.WaitForPoolAsync("default", p => p.Backends.Length == 4);

        Assert.AreEqual("web/10.0.0.4:8080", pool.Backends[3].Id);
        CollectionAssert.AreEqual(before, pool.Backends.Take(3).ToArray());
        Assert.AreEqual(1, pool.Backends[0].InFlight);
    }

    [TestMethod]
    public async Task Refresh_ResolutionFails_KeepsTheLastAddressesAndLogsOncePerStreak()
    {
        using var balancer = Create();
        var pool = await balancer.Registry.WaitForPoolAsync("default", p => p.Backends.Length == 3);
        var before = pool.Backends.ToArray();

        _resolver.Fail("web.internal");
        _time.Advance(Interval);
        _time.Advance(Interval);
        _resolver.Answer("web.internal", "10.0.0.1", "10.0.0.2", "10.0.0.3");
        _time.Advance(Interval);

        CollectionAssert.AreEqual(before, pool.Backends.ToArray());
        var logs = balancer.Services.GetFakeLogCollector().GetSnapshot();
        var failed = logs.Where(r => r.Id.Id == 23).ToList();
        Assert.HasCount(1, failed, "one line per failure streak, not per failed lookup");
        Assert.AreEqual((LogLevel.Warning, "DnsResolutionFailed"), (failed[0].Level, failed[0].Id.Name));
        Assert.Contains("web.internal", failed[0].Message);
        Assert.HasCount(1, logs.Where(r => r.Id.Name == "DnsResolutionRecovered").ToList());
        Assert.AreEqual(4, _resolver.Calls);
    }

    [TestMethod]
    public async Task Refresh_NoAddresses_LeavesNoBackendsFromTheEntryAndLogs()
    {
        using var balancer = Create();
        var pool = await balancer.Registry.WaitForPoolAsync("default", p => p.Backends.Length == 3);

        _resolver.Answer("web.internal");
        _time.Advance(Interval);
        await balancer.Registry.WaitForPoolAsync("default", p => p.Backends.Length == 0);

        Assert.IsEmpty(pool.Backends);
        Assert.HasCount(1, balancer.Services.GetFakeLogCollector().GetSnapshot().Where(r => r.Id.Name == "DnsNoAddresses").ToList());
    }

    [TestMethod]
    public async Task Start_AddressFamilyIPv4_KeepsOnlyIPv4Addresses()
    {
        _resolver.Answer("web.internal", "10.0.0.1", "fd00::1");
        using var balancer = Create(DnsPool().With("LoadBalancer:Pools:default:Dns:AddressFamily", "IPv4"));

        var pool = await balancer.Registry.WaitForPoolAsync("default", p => p.Backends.Length > 0);

        Assert.AreEqual("web/10.0.0.1:8080", pool.Backends.Single().Id);
    }

    [TestMethod]
    public async Task Start_IPv6Address_IsBracketedInIdAndAddress()
    {
        _resolver.Answer("web.internal", "fd00::1");
        using var balancer = Create();

        var backend = (await balancer.Registry.WaitForPoolAsync("default", p => p.Backends.Length > 0)).Backends.Single();

        Assert.AreEqual(("web/[fd00::1]:8080", new Uri("http://[fd00::1]:8080/")), (backend.Id, backend.Address));
    }

    [TestMethod]
    public async Task SendAsync_DiscoveredBackend_IsReachedByAddressWithTheNameAsHost()
    {
        var hosts = new System.Collections.Concurrent.ConcurrentQueue<string?>();
        var handler = new FakeHttpHandler((request, _) =>
        {
            hosts.Enqueue(request.Headers.Host);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
        });
        _resolver.Answer("web.internal", "10.0.0.1");
        using var balancer = Create(handler: handler);
        var pool = await balancer.Registry.WaitForPoolAsync("default", p => p.Backends.Length == 1);

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/a?b=1", UriKind.Relative));
        var result = await balancer.Sender.SendAsync(pool, request, new BalancingContext(null), CancellationToken.None);
        result.Complete(BackendOutcome.Success);
        result.Response?.Dispose();

        Assert.AreEqual("http://10.0.0.1:8080/a?b=1", handler.RequestUris.Single()?.ToString());
        Assert.AreEqual("web.internal:8080", hosts.Single());
    }

    [TestMethod]
    public async Task SendAsync_RetryFromDiscoveredToStaticBackend_SendsTheStaticBackendItsOwnHost()
    {
        var attempts = new System.Collections.Concurrent.ConcurrentQueue<(string Host, string? HostHeader)>();
        var handler = new FakeHttpHandler((request, _) =>
        {
            attempts.Enqueue((request.RequestUri!.Host, request.Headers.Host));
            return request.RequestUri.Host == "10.0.0.1"
                ? Task.FromException<HttpResponseMessage>(new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused"))
                : Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
        });
        _resolver.Answer("web.internal", "10.0.0.1");
        using var balancer = Create(DnsPool().With(Settings.BackendKey("default", "b1"), "http://b1.test"), handler);
        var pool = await balancer.Registry.WaitForPoolAsync("default", p => p.Backends.Length == 2);

        // The pin sends the first attempt to the discovered backend; its refusal is retried on b1.
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/", UriKind.Relative));
        var result = await balancer.Sender.SendAsync(pool, request, new BalancingContext(null) { AffinityBackendId = "web/10.0.0.1:8080" }, CancellationToken.None);
        result.Complete(BackendOutcome.Success);
        result.Response?.Dispose();

        CollectionAssert.AreEqual(
            new[] { ("10.0.0.1", (string?)"web.internal:8080"), ("b1.test", null) },
            attempts.ToArray());
    }

    [TestMethod]
    public async Task Statistics_DiscoveredBackends_AreListedLikeConfiguredOnes()
    {
        using var balancer = Create(DnsPool().With(Settings.BackendKey("default", "legacy"), "http://10.0.0.9:8080"));
        await balancer.Registry.WaitForPoolAsync("default", p => p.Backends.Length == 4);

        var pool = balancer.Services.GetRequiredService<ILoadBalancerStatistics>().GetSnapshot().Pools.Single();

        CollectionAssert.AreEqual(
            new[] { "legacy", "web/10.0.0.1:8080", "web/10.0.0.2:8080", "web/10.0.0.3:8080" },
            pool.Backends.Select(b => b.Id).ToArray());
    }

    [TestMethod]
    public async Task Reload_UnrelatedChange_KeepsTheDiscoveredBackendsWithoutWaitingForDns()
    {
        using var balancer = Create();
        var pool = await balancer.Registry.WaitForPoolAsync("default", p => p.Backends.Length == 3);
        var before = pool.Backends.ToArray();

        var result = await balancer.ChangeAndWaitAsync(DnsPool().With($"{Web}:Weight", "5"));

        Assert.IsTrue(result.Applied);
        CollectionAssert.AreEqual(before, pool.Backends.ToArray());
        Assert.IsTrue(pool.Backends.All(b => b.Weight == 5));
        Assert.AreEqual(1, _resolver.Calls, "the name is not resolved again before its interval");
    }

    [TestMethod]
    public async Task Reload_SameNameOtherInterval_CarriesTheAddressesOverSoTheBackendsNeverLeave()
    {
        using var balancer = Create();
        var pool = await balancer.Registry.WaitForPoolAsync("default", p => p.Backends.Length == 3);
        var before = pool.Backends.ToArray();

        var result = await balancer.ChangeAndWaitAsync(DnsPool().With("LoadBalancer:Pools:default:Dns:RefreshInterval", "00:01:00"));
        await balancer.Services.GetRequiredService<DnsBackendSource>().WhenResolvedAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.IsTrue(result.Applied);
        Assert.AreEqual(2, _resolver.Calls, "the changed entry is looked up afresh");
        CollectionAssert.AreEqual(before, pool.Backends.ToArray(), "the same state objects: the backends never left the pool");
    }

    [TestMethod]
    public async Task Start_InternationalName_IsResolvedAndSentAsPunycode()
    {
        _resolver.Answer("xn--bcher-kva.internal", "10.0.0.1");
        using var balancer = Create(DnsPool().With($"{Web}:Address", "http://bücher.internal"));

        var backend = (await balancer.Registry.WaitForPoolAsync("default", p => p.Backends.Length == 1)).Backends.Single();

        Assert.AreEqual(("web/10.0.0.1:80", "xn--bcher-kva.internal"), (backend.Id, backend.Host));
    }

    [TestMethod]
    public async Task Reload_EntryRemoved_StopsResolvingIt()
    {
        using var balancer = Create();
        await balancer.Registry.WaitForPoolAsync("default", p => p.Backends.Length == 3);

        await balancer.ChangeAndWaitAsync(Settings.Pool("default", ("b1", "http://b1.test")));
        _time.Advance(Interval);

        Assert.AreEqual("b1", balancer.Pool().Backends.Single().Id);
        Assert.AreEqual(1, _resolver.Calls);
    }

    [TestMethod]
    public void Start_InvalidDiscoverySettings_FailNamingEachKey()
    {
        using var balancer = Create(DnsPool()
            .With("LoadBalancer:Pools:default:Dns:RefreshInterval", "00:00:00.500")
            .With("LoadBalancer:Pools:default:Backends:other:Address", "http://other.internal")
            .With("LoadBalancer:Pools:default:Backends:other:Discovery", "Consul"));

        var error = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.HasCount(2, error.Failures);
        Assert.Contains("LoadBalancer:Pools:default:Dns:RefreshInterval: must be from 00:00:01", error.Failures.First(f => f.Contains("RefreshInterval", StringComparison.Ordinal)));
        Assert.Contains("LoadBalancer:Pools:default:Backends:other:Discovery: 'Consul' is not a valid value", error.Failures.First(f => f.Contains("Discovery", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void Start_UnknownAddressFamily_FailsNamingTheKey()
    {
        using var balancer = Create(DnsPool().With("LoadBalancer:Pools:default:Dns:AddressFamily", "IPv5"));

        var error = Assert.ThrowsExactly<OptionsValidationException>(() => balancer.Registry);

        Assert.Contains("LoadBalancer:Pools:default:Dns:AddressFamily: 'IPv5' is not a valid value; expected one of Any, IPv4, IPv6", error.Message);
    }

    private TestBalancer Create(Dictionary<string, string?>? settings = null, FakeHttpHandler? handler = null)
        => TestBalancer.Create(settings ?? DnsPool(), services =>
        {
            services.AddSingleton<IDnsResolver>(_resolver);
            services.AddSingleton<TimeProvider>(_time);
            services.AddLogging(b => b.AddFakeLogging());
            if (handler is not null)
            {
                services.AddHttpClient(LoadBalancerDefaults.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => handler);
            }
        });
}
