using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;

namespace Balancing.Health;

/// <summary>A named way to create a health probe; each pool with active checks gets its own instance.</summary>
/// <param name="Name">The name the probe is chosen by in <see cref="ActiveHealthCheckOptions.Probe"/>.</param>
/// <param name="Factory">Creates the probe for a pool, given that pool's settings.</param>
internal sealed record HealthProbeRegistration(string Name, Func<IServiceProvider, PoolOptions, IHealthProbe> Factory)
{
    /// <summary>
    /// A registration that builds <typeparamref name="TProbe"/> with <see cref="ActivatorUtilities"/>: services come from
    /// the container, and a constructor parameter of type <see cref="ActiveHealthCheckOptions"/> or <see cref="PoolOptions"/>
    /// receives the pool's settings.
    /// </summary>
    public static HealthProbeRegistration For<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TProbe>(string name)
        where TProbe : class, IHealthProbe
    {
        var argumentTypes = ChooseArguments(typeof(TProbe));
        var factory = ActivatorUtilities.CreateFactory(typeof(TProbe), argumentTypes);
        return new HealthProbeRegistration(name, (services, pool) =>
        {
            var arguments = new object[argumentTypes.Length];
            for (var i = 0; i < argumentTypes.Length; i++)
            {
                arguments[i] = argumentTypes[i] == typeof(PoolOptions) ? pool : pool.HealthCheck.Active;
            }

            return (IHealthProbe)factory(services, arguments);
        });
    }

    /// <summary>The settings objects some public constructor of <paramref name="type"/> takes, most first.</summary>
    private static Type[] ChooseArguments([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] Type type)
    {
        Type[][] candidates = [[typeof(ActiveHealthCheckOptions), typeof(PoolOptions)], [typeof(ActiveHealthCheckOptions)], [typeof(PoolOptions)]];
        var constructors = type.GetConstructors();
        foreach (var candidate in candidates)
        {
            if (constructors.Any(c => candidate.All(t => c.GetParameters().Any(p => p.ParameterType == t))))
            {
                return candidate;
            }
        }

        return [];
    }
}

/// <summary>The health probes known by name, built-in and registered by the app.</summary>
internal sealed class HealthProbeRegistry
{
    /// <summary>The names known when no registry is at hand (the validator alone, in tests).</summary>
    public static readonly IReadOnlyList<string> BuiltInNames = [HealthProbeNames.Http, HealthProbeNames.Tcp];

    private readonly Dictionary<string, HealthProbeRegistration> _registrations;

    public HealthProbeRegistry(IEnumerable<HealthProbeRegistration> registrations)
    {
        _registrations = new Dictionary<string, HealthProbeRegistration>(StringComparer.OrdinalIgnoreCase);
        foreach (var registration in registrations)
        {
            // The last registration of a name wins, so an app can replace a built-in probe.
            _registrations[registration.Name] = registration;
        }
    }

    public IEnumerable<string> Names => _registrations.Keys.Order(StringComparer.OrdinalIgnoreCase);

    public bool Contains(string name) => _registrations.ContainsKey(name);

    public IHealthProbe Create(string name, PoolOptions pool, IServiceProvider services)
    {
        if (!_registrations.TryGetValue(name, out var registration))
        {
            throw new InvalidOperationException($"Unknown health probe '{name}'; known probes are {string.Join(", ", Names)}.");
        }

        return registration.Factory(services, pool);
    }
}
