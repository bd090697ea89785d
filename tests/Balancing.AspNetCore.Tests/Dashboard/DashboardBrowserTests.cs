using System.Text.RegularExpressions;
using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Balancing.AspNetCore.Tests.Dashboard;

/// <summary><c>MapLoadBalancerDashboard()</c> in real headless Chromium, over a real balancer and real backends.</summary>
[TestClass]
public sealed class DashboardBrowserTests
{
    private static HeadlessChromium? _chromium;

    public TestContext TestContext { get; set; } = null!;

    [ClassInitialize]
    public static async Task LaunchAsync(TestContext context)
    {
        // The page's first poll and Kestrel start-up share two cores with the rest of the suite: wait longer than
        // Playwright's 5 s by default. Assertions about timing set their own, tighter, timeout.
        SetDefaultExpectTimeout(15_000);
        _chromium = await HeadlessChromium.LaunchAsync();
    }

    [ClassCleanup]
    public static async Task CloseAsync()
    {
        if (_chromium is not null)
        {
            await _chromium.DisposeAsync();
        }
    }

    [TestMethod]
    public async Task Dashboard_WhileTrafficFlows_ListsEveryBackendAndItsRateRises()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        await using var b3 = await TestBackend.StartAsync("b3");
        await using var balancer = await StartAsync(BalancerHost.PoolSettings(b1, b2, b3));
        await using var watched = await Chromium.OpenAsync();
        var page = watched.Page;

        var response = await page.GotoAsync(balancer.Address + "/_lb");
        var rows = page.Locator("section[data-pool='default'] tr[data-backend]");
        await Expect(rows).ToHaveCountAsync(3);
        var quietRate = await page.Locator("#total-rps").GetAttributeAsync("data-value");

        using var traffic = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var sender = SendTrafficAsync(balancer, traffic.Token);
        await page.WaitForFunctionAsync(
            "() => [...document.querySelectorAll('tr[data-backend] [data-field=rps10]')].every(c => parseFloat(c.dataset.value) > 0)",
            null,
            new PageWaitForFunctionOptions { Timeout = 15_000, PollingInterval = 100 });
        await traffic.CancelAsync();
        var sent = await sender;

        Assert.AreEqual(200, response?.Status);
        CollectionAssert.AreEqual(new[] { "b1", "b2", "b3" }, (await page.Locator("tr[data-backend] [data-field=id]").AllTextContentsAsync()).ToArray());
        CollectionAssert.AreEqual(new[] { b1.Address + "/", b2.Address + "/", b3.Address + "/" }, (await page.Locator("tr[data-backend] [data-field=address]").AllTextContentsAsync()).ToArray());
        Assert.AreEqual("0", quietRate, "no traffic before the test sent some");
        Assert.IsGreaterThan(0.0, double.Parse((await page.Locator("#total-rps").GetAttributeAsync("data-value"))!, System.Globalization.CultureInfo.InvariantCulture));
        await Expect(page.Locator("section[data-pool='default'] [data-field=strategy]")).ToHaveTextAsync("RoundRobin");
        await Expect(page.Locator("#connection")).ToHaveAttributeAsync("data-state", "live");
        Assert.IsGreaterThan(0, sent);
        Assert.IsEmpty(watched.Problems, string.Join("\n", watched.Problems));
    }

    [TestMethod]
    public async Task Dashboard_StoppedBackend_IsShownUnhealthyWithinAFewHealthIntervals()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        var b2 = await TestBackend.StartAsync("b2");
        await using var b3 = await TestBackend.StartAsync("b3");
        var settings = BalancerHost.PoolSettings(b1, b2, b3);
        const string Active = "LoadBalancer:Pools:default:HealthCheck:Active";
        settings[$"{Active}:Enabled"] = "true";
        settings[$"{Active}:Interval"] = "00:00:00.5";
        settings[$"{Active}:Timeout"] = "00:00:00.5";
        settings[$"{Active}:HealthyThreshold"] = "1";
        settings[$"{Active}:UnhealthyThreshold"] = "1";
        await using var balancer = await StartAsync(settings);
        await using var watched = await Chromium.OpenAsync();
        var page = watched.Page;
        await page.GotoAsync(balancer.Address + "/_lb");
        var health = page.Locator("tr[data-backend='b2'] [data-field=health]");
        await Expect(health).ToHaveTextAsync("Healthy", new LocatorAssertionsToHaveTextOptions { Timeout = 10_000 });

        await b2.DisposeAsync();

        // One interval (0.5 s, jitter 10 %) for the failing probe, one second for the page's next poll: 6 s leaves room
        // for a busy machine and still fails a page that stopped refreshing or a probe that stopped probing.
        await Expect(health).ToHaveTextAsync("Unhealthy", new LocatorAssertionsToHaveTextOptions { Timeout = 6_000 });
        await Expect(page.Locator("tr[data-backend='b1'] [data-field=health]")).ToHaveTextAsync("Healthy");
        await Expect(page.Locator("section[data-pool='default'] [data-field=available]")).ToHaveTextAsync("2 of 3 available");
        await Expect(page.Locator("#total-available")).ToHaveTextAsync("2 / 3");
        Assert.IsEmpty(watched.Problems, string.Join("\n", watched.Problems));
    }

    [TestMethod]
    public async Task Dashboard_BackendOverTheErrorRateThreshold_IsHighlighted()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2", context =>
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            return Task.CompletedTask;
        });
        var settings = BalancerHost.PoolSettings(b1, b2);
        settings["LoadBalancer:Monitoring:MinimumRequests"] = "3";
        settings["LoadBalancer:Pools:default:HealthCheck:Passive:Enabled"] = "false";
        await using var balancer = await StartAsync(settings);
        await using var watched = await Chromium.OpenAsync();
        var page = watched.Page;
        await page.GotoAsync(balancer.Address + "/_lb");
        var failing = page.Locator("tr[data-backend='b2']");
        await Expect(failing).ToHaveAttributeAsync("data-alert", "false");

        for (var i = 0; i < 10; i++)
        {
            using var response = await balancer.Client.GetAsync("/x");
        }

        await Expect(failing).ToHaveAttributeAsync("data-alert", "true", new LocatorAssertionsToHaveAttributeOptions { Timeout = 10_000 });
        await Expect(failing).ToHaveClassAsync(new Regex("\\balert\\b"));
        await Expect(page.Locator("tr[data-backend='b1']")).ToHaveAttributeAsync("data-alert", "false");
        await Expect(page.Locator("#alerts-tile")).ToHaveClassAsync(new Regex("\\bbad\\b"));
        await Expect(page.Locator("#total-alerts")).ToHaveTextAsync(new Regex("^[12]$"), new LocatorAssertionsToHaveTextOptions { Timeout = 5_000 });
        Assert.IsEmpty(watched.Problems, string.Join("\n", watched.Problems));
    }

    [TestMethod]
    [DataRow(390, 844)]
    [DataRow(1024, 768)]
    [DataRow(2560, 1440)]
    public async Task Dashboard_AtAnyScreenWidth_FitsWithoutScrollingSideways(int width, int height)
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        await using var b3 = await TestBackend.StartAsync("a-backend-with-a-rather-long-name");
        await using var balancer = await StartAsync(BalancerHost.PoolSettings(b1, b2, b3));
        await using var watched = await Chromium.OpenAsync(width, height);
        var page = watched.Page;
        await page.GotoAsync(balancer.Address + "/_lb");
        await Expect(page.Locator("tr[data-backend]")).ToHaveCountAsync(3);

        var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - document.documentElement.clientWidth");

        Assert.IsLessThanOrEqualTo(0, overflow, $"the page is {overflow} px wider than a {width} px screen");
        Assert.IsEmpty(watched.Problems, string.Join("\n", watched.Problems));
    }

    /// <summary>
    /// Screenshots the dashboard under paced traffic. In the suite: 4 seconds of traffic into a temporary file, which must be
    /// a real picture of a dashboard with data. To regenerate docs/dashboard.png:
    /// <c>BALANCING_DASHBOARD_SCREENSHOT=docs/dashboard.png dotnet test --filter Dashboard_UnderLoad_SavesAScreenshot</c>
    /// (a path relative to the repository root, or absolute): 150 seconds of traffic, for charts with some history.
    /// </summary>
    [TestMethod]
    public async Task Dashboard_UnderLoad_SavesAScreenshot()
    {
        var target = Environment.GetEnvironmentVariable("BALANCING_DASHBOARD_SCREENSHOT");
        var regenerate = !string.IsNullOrEmpty(target);
        target = regenerate ? target! : Path.Combine(Path.GetTempPath(), $"balancing-dashboard-{Guid.NewGuid():N}.png");
        var duration = TimeSpan.FromSeconds(regenerate ? 150 : 4);

        await using var fast = await TestBackend.StartAsync("api-1");
        await using var slow = await TestBackend.StartAsync("api-2", async context =>
        {
            // A slower machine: 30 to 120 ms per answer.
            await Task.Delay(30 + Random.Shared.Next(90), context.RequestAborted);
            await context.Response.WriteAsync("api-2");
        });
        await using var flaky = await TestBackend.StartAsync("api-3", async context =>
        {
            // Fails about one request in six, above the default 10 % alert threshold.
            if (context.Request.Path != "/health" && Random.Shared.Next(6) == 0)
            {
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                return;
            }

            await Task.Delay(Random.Shared.Next(12), context.RequestAborted);
            await context.Response.WriteAsync("api-3");
        });
        var settings = BalancerHost.PoolSettings(fast, slow, flaky);
        settings["LoadBalancer:Pools:default:Strategy"] = "WeightedRoundRobin";
        settings["LoadBalancer:Pools:default:Backends:api-1:Weight"] = "3";
        settings["LoadBalancer:Pools:default:Backends:api-3:Weight"] = "2";
        settings["LoadBalancer:Pools:default:HealthCheck:Active:Enabled"] = "true";
        settings["LoadBalancer:Pools:default:HealthCheck:Passive:Enabled"] = "false";
        await using var balancer = await StartAsync(settings);
        await using var watched = await Chromium.OpenAsync(1400, 900);
        await watched.Page.GotoAsync(balancer.Address + "/_lb");

        // Paced traffic, rising and falling, for a chart with some shape: 20 to 90 requests per second for 150 s.
        var started = DateTimeOffset.UtcNow;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        var inFlight = new List<Task>();
        var tick = 0;
        while (DateTimeOffset.UtcNow - started < duration && await timer.WaitForNextTickAsync())
        {
            var seconds = (DateTimeOffset.UtcNow - started).TotalSeconds;
            var perSecond = 55 + (35 * Math.Sin(seconds / 12));
            if (++tick % Math.Max(1, (int)(100 / perSecond)) == 0)
            {
                inFlight.Add(SendOneAsync(balancer));
                inFlight.RemoveAll(t => t.IsCompleted);
            }
        }

        await Task.WhenAll(inFlight);
        if (regenerate)
        {
            // Over 150 s one failure in six is certain to raise the alert; over 4 s it is only likely.
            await Expect(watched.Page.Locator("tr[data-backend='api-3']")).ToHaveAttributeAsync("data-alert", "true");
        }
        else
        {
            await Expect(watched.Page.Locator("tr[data-backend='api-1']")).ToBeVisibleAsync();
        }

        var path = Path.IsPathRooted(target) ? target : Path.Combine(RepositoryRoot(), target!);
        await watched.Page.ScreenshotAsync(new PageScreenshotOptions { Path = path });
        TestContext.WriteLine($"Saved {path}");
        Assert.IsGreaterThan(10_000L, new FileInfo(path).Length, "a 1400x900 picture of a dashboard with data");
        Assert.IsEmpty(watched.Problems, string.Join("\n", watched.Problems));
        if (!regenerate)
        {
            File.Delete(path);
        }
    }

    private static HeadlessChromium Chromium => _chromium ?? throw new InvalidOperationException("Chromium was not launched.");

    private static Task<BalancerHost> StartAsync(Dictionary<string, string?> settings)
        => BalancerHost.StartAsync(settings, app =>
        {
            app.MapLoadBalancerDashboard();
            app.UseLoadBalancer();
        });

    /// <summary>Sends requests one after another until <paramref name="cancellationToken"/> fires or 5,000 are sent.</summary>
    private static async Task<int> SendTrafficAsync(BalancerHost balancer, CancellationToken cancellationToken)
    {
        var sent = 0;
        try
        {
            while (sent < 5_000 && !cancellationToken.IsCancellationRequested)
            {
                using var response = await balancer.Client.GetAsync("/work", cancellationToken);
                sent++;
            }
        }
        catch (OperationCanceledException)
        {
        }

        return sent;
    }

    private static async Task SendOneAsync(BalancerHost balancer)
    {
        using var response = await balancer.Client.GetAsync("/orders");
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Balancing.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Balancing.sln not found above " + AppContext.BaseDirectory);
    }
}
