using Balancing.Pools;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Balancing.Core.Tests.Infrastructure;

/// <summary>
/// The engine as an app registers it: <c>AddLoadBalancerCore()</c> over an <see cref="IConfiguration"/> whose
/// content the test can change and reload.
/// </summary>
internal sealed class TestBalancer : IDisposable
{
    private readonly IConfigurationRoot _root;
    private readonly MutableConfigurationProvider _provider;

    private TestBalancer(IConfigurationRoot root, MutableConfigurationProvider provider, ServiceProvider services)
    {
        _root = root;
        _provider = provider;
        Services = services;
    }

    public ServiceProvider Services { get; }

    public ServerPoolRegistry Registry => Services.GetRequiredService<ServerPoolRegistry>();

    public BalancedSender Sender => Services.GetRequiredService<BalancedSender>();

    /// <summary>Registers the engine configured from <paramref name="settings"/>; resolves nothing yet.</summary>
    public static TestBalancer Create(IDictionary<string, string?> settings, Action<IServiceCollection>? configureServices = null)
    {
        var provider = new MutableConfigurationProvider(settings);
        var root = new ConfigurationBuilder().Add(provider).Build();
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<IConfiguration>(root);
        services.AddLoadBalancerCore();
        configureServices?.Invoke(services);
        return new TestBalancer(root, provider, services.BuildServiceProvider(validateScopes: true));
    }

    /// <summary>Registers the engine with <paramref name="handler"/> as the primary handler of its HTTP client.</summary>
    public static TestBalancer CreateWithHandler(IDictionary<string, string?> settings, FakeHttpHandler handler, TimeProvider? timeProvider = null)
        => Create(settings, services =>
        {
            services.AddHttpClient(LoadBalancerDefaults.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => handler);
            if (timeProvider is not null)
            {
                services.AddSingleton(timeProvider);
            }
        });

    /// <summary>Replaces the configuration with <paramref name="settings"/> and reloads it, as a file watcher would.</summary>
    public void Change(IDictionary<string, string?> settings)
    {
        _provider.Replace(settings);
        _root.Reload();
    }

    /// <summary>Changes the configuration and returns the registry's verdict on the change.</summary>
    public async Task<ConfigurationChangeResult> ChangeAndWaitAsync(IDictionary<string, string?> settings)
    {
        var registry = Registry;
        var changed = new TaskCompletionSource<ConfigurationChangeResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(object? sender, ConfigurationChangeResult result) => changed.TrySetResult(result);
        registry.ConfigurationChanged += OnChanged;
        try
        {
            Change(settings);
            return await changed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            registry.ConfigurationChanged -= OnChanged;
        }
    }

    public ServerPool Pool(string name = "default")
        => Registry.GetPool(name) ?? throw new AssertFailedException($"Pool '{name}' is not configured.");

    public void Dispose()
    {
        Services.Dispose();
        (_root as IDisposable)?.Dispose();
    }
}
