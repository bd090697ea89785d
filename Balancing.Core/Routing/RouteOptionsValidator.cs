namespace Balancing.Routing;

/// <summary>
/// The rules on <c>LoadBalancer:Routes</c> that need no web host: a path and a configured pool on every route, and
/// host patterns that parse. The front door adds the template rules (syntax, constraints, conflicts) when it is used.
/// </summary>
internal static class RouteOptionsValidator
{
    public static void Validate(LoadBalancerOptions options, string sectionPath, List<string> errors)
    {
        if (options.Routes.Count == 0)
        {
            return;
        }

        string? pools = null;
        foreach (var (name, route) in options.Routes)
        {
            var key = $"{sectionPath}:Routes:{name}";
            if (route is null)
            {
                continue;
            }

            if (string.IsNullOrWhiteSpace(route.Path))
            {
                errors.Add($"{key}:Path: is required, for example /api/{{**rest}} or /{{**rest}} for every path.");
            }

            if (string.IsNullOrWhiteSpace(route.Pool))
            {
                errors.Add($"{key}:Pool: is required; {pools ??= DescribePools(options)}.");
            }
            else if (!options.Pools.ContainsKey(route.Pool))
            {
                errors.Add($"{key}:Pool: unknown pool '{route.Pool}'; {pools ??= DescribePools(options)}.");
            }

            for (var i = 0; i < route.Hosts.Count; i++)
            {
                if (!HostPattern.TryParse(route.Hosts[i], out _))
                {
                    errors.Add($"{key}:Hosts:{i}: '{route.Hosts[i]}' is not a host pattern such as example.com, *.example.com, example.com:8080 or *:8080.");
                }
            }
        }
    }

    private static string DescribePools(LoadBalancerOptions options)
        => options.Pools.Count == 0
            ? "no pools are configured"
            : $"the configured pools are {string.Join(", ", options.Pools.Keys.Order(StringComparer.OrdinalIgnoreCase))}";
}
