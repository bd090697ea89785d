namespace Balancing.Strategies;

/// <summary>A named way to create a strategy; each pool gets its own instance.</summary>
internal sealed record LoadStrategyRegistration(string Name, Func<IServiceProvider, ILoadStrategy> Factory);

/// <summary>The strategies known by name, built-in and registered by the app.</summary>
internal sealed class LoadStrategyRegistry
{
    private readonly Dictionary<string, LoadStrategyRegistration> _registrations;

    public LoadStrategyRegistry(IEnumerable<LoadStrategyRegistration> registrations)
    {
        _registrations = new Dictionary<string, LoadStrategyRegistration>(StringComparer.OrdinalIgnoreCase);
        foreach (var registration in registrations)
        {
            // The last registration of a name wins, so an app can replace a built-in strategy.
            _registrations[registration.Name] = registration;
        }
    }

    public IEnumerable<string> Names => _registrations.Keys.Order(StringComparer.OrdinalIgnoreCase);

    public bool Contains(string name) => _registrations.ContainsKey(name);

    public ILoadStrategy Create(string name, IServiceProvider services)
    {
        if (!_registrations.TryGetValue(name, out var registration))
        {
            throw new InvalidOperationException($"Unknown load strategy '{name}'; known strategies are {string.Join(", ", Names)}.");
        }

        return registration.Factory(services);
    }
}
