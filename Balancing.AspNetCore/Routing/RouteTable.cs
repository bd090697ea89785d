using System.Globalization;
using System.Text;
using Balancing.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.AspNetCore.Routing.Template;

namespace Balancing.AspNetCore.Routing;

/// <summary>
/// The routes of one configuration, compiled and sorted: immutable, swapped whole when the configuration changes.
/// </summary>
/// <remarks>
/// Routes are tried in ASP.NET Core's order: the lowest <c>Order</c> first, then the more specific template
/// (ASP.NET Core's <c>RoutePrecedence</c>: literal segments before constrained parameters, before parameters, before
/// catch-alls), then the more specific host, then the route name. Templates are matched by ASP.NET Core's own
/// <see cref="TemplateMatcher"/> and their inline constraints by the app's constraint map.
/// </remarks>
internal sealed class RouteTable
{
    private RouteTable(LoadBalancerOptions? source, Route[] routes)
    {
        Source = source;
        Routes = routes;
    }

    /// <summary>Gets the configuration the table was compiled from.</summary>
    public LoadBalancerOptions? Source { get; }

    /// <summary>Gets the routes, in the order they are tried.</summary>
    public Route[] Routes { get; }

    /// <summary>Gets a value indicating whether the configuration has no routes.</summary>
    public bool IsEmpty => Routes.Length == 0;

    /// <summary>
    /// Compiles the routes of <paramref name="options"/>. Problems the engine reports already (no path, no pool, a bad
    /// host) only leave the route out; template problems are added to <paramref name="errors"/> with their full key.
    /// </summary>
    public static RouteTable Compile(LoadBalancerOptions options, string sectionPath, ParameterPolicyFactory? policies, List<string> errors)
    {
        if (options.Routes.Count == 0)
        {
            return new RouteTable(options, []);
        }

        var compiled = new List<Route>(options.Routes.Count);
        foreach (var (name, route) in options.Routes.OrderBy(r => r.Key, StringComparer.OrdinalIgnoreCase))
        {
            if (route is null || string.IsNullOrWhiteSpace(route.Path) || string.IsNullOrWhiteSpace(route.Pool))
            {
                continue;
            }

            var key = $"{sectionPath}:Routes:{name}";
            RoutePattern pattern;
            try
            {
                pattern = RoutePatternFactory.Parse(route.Path);
            }
            catch (RoutePatternException ex)
            {
                errors.Add($"{key}:Path: '{route.Path}' is not a valid route template: {ex.Message}");
                continue;
            }

            var constraints = new List<KeyValuePair<string, IRouteConstraint>>();
            var valid = true;
            foreach (var parameter in pattern.Parameters)
            {
                foreach (var reference in parameter.ParameterPolicies)
                {
                    try
                    {
                        var policy = policies?.Create(parameter, reference)
                            ?? throw new InvalidOperationException("Route constraints need the routing services (services.AddRouting()).");
                        if (policy is IRouteConstraint constraint)
                        {
                            constraints.Add(new(parameter.Name, constraint));
                        }
                    }
                    catch (Exception ex) when (ex is InvalidOperationException or RouteCreationException or ArgumentException)
                    {
                        errors.Add($"{key}:Path: '{route.Path}' has a constraint that cannot be used: {ex.Message}");
                        valid = false;
                    }
                }
            }

            var hosts = new List<HostPattern>(route.Hosts.Count);
            foreach (var host in route.Hosts)
            {
                if (HostPattern.TryParse(host, out var parsed))
                {
                    hosts.Add(parsed);
                }
                else
                {
                    valid = false;
                }
            }

            if (valid)
            {
                compiled.Add(new Route(name, route.Pool, route.Order, pattern, [.. hosts], [.. constraints]));
            }
        }

        ReportConflicts(compiled, sectionPath, errors);
        compiled.Sort(static (a, b) =>
        {
            var byRank = CompareRank(a, b);
            if (byRank != 0)
            {
                return byRank;
            }

            var byHost = b.BestHostSpecificity.CompareTo(a.BestHostSpecificity);
            return byHost != 0 ? byHost : StringComparer.OrdinalIgnoreCase.Compare(a.Name, b.Name);
        });

        return new RouteTable(options, [.. compiled]);
    }

    /// <summary>
    /// Finds the pool for <paramref name="context"/>: the first route (in table order) whose host and path match; among
    /// routes of the same order and precedence, the one whose matching host pattern is the most specific.
    /// </summary>
    /// <returns>The pool's name, or <see langword="null"/> when no route matches.</returns>
    public string? Match(HttpContext context) => MatchRoute(context)?.Pool;

    /// <summary>As <see cref="Match"/>, returning the route rather than its pool.</summary>
    public Route? MatchRoute(HttpContext context)
    {
        var routes = Routes;
        var request = context.Request;
        var path = request.Path;
        string? host = null;
        int? port = null;
        RouteValueDictionary? values = null;
        Route? best = null;
        var bestHost = -1;
        foreach (var route in routes)
        {
            if (best is not null && CompareRank(best, route) != 0)
            {
                // Routes further on rank lower whatever their host.
                break;
            }

            var hostScore = 0;
            if (route.Hosts.Length > 0)
            {
                if (host is null)
                {
                    (host, port) = HostAndPort(request);
                }

                hostScore = route.MatchHost(host, port);
                if (hostScore < 0)
                {
                    continue;
                }
            }

            if (best is not null && hostScore <= bestHost)
            {
                continue;
            }

            if (values is null)
            {
                values = new RouteValueDictionary();
            }
            else
            {
                values.Clear();
            }

            if (route.MatchPath(context, path, values))
            {
                best = route;
                bestHost = hostScore;
            }
        }

        return best;
    }

    private static int CompareRank(Route a, Route b)
    {
        var byOrder = a.Order.CompareTo(b.Order);
        return byOrder != 0 ? byOrder : a.Precedence.CompareTo(b.Precedence);
    }

    /// <summary>The request's host and port; without a port in <c>Host</c>, the scheme's default (as ASP.NET Core's host matching does).</summary>
    private static (string Host, int? Port) HostAndPort(HttpRequest request)
    {
        var host = request.Host;
        var port = host.Port;
        if (port is null)
        {
            port = request.IsHttps ? 443 : string.Equals(request.Scheme, "http", StringComparison.OrdinalIgnoreCase) ? 80 : null;
        }

        return (host.Host, port);
    }

    /// <summary>
    /// Two routes with the same order, hosts and template (parameter names aside) match the same requests: one of them
    /// could never win. That is a mistake worth failing for; overlaps that precedence settles are not.
    /// </summary>
    private static void ReportConflicts(List<Route> routes, string sectionPath, List<string> errors)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var route in routes)
        {
            var signature = string.Create(CultureInfo.InvariantCulture, $"{route.Order}|{route.Signature}|{string.Join(',', route.Hosts.Select(h => h.Canonical).Distinct().Order(StringComparer.Ordinal))}");
            if (seen.TryGetValue(signature, out var first))
            {
                errors.Add($"{sectionPath}:Routes:{route.Name}: has the same Path, Hosts and Order as route '{first}', so one of them could never match; change one of them, or give one a lower Order to make it win.");
            }
            else
            {
                seen[signature] = route.Name;
            }
        }
    }

    /// <summary>One compiled route.</summary>
    internal sealed class Route
    {
        private readonly TemplateMatcher _matcher;
        private readonly KeyValuePair<string, IRouteConstraint>[] _constraints;

        public Route(string name, string pool, int order, RoutePattern pattern, HostPattern[] hosts, KeyValuePair<string, IRouteConstraint>[] constraints)
        {
            Name = name;
            Pool = pool;
            Order = order;
            Hosts = hosts;
            _constraints = constraints;
            var template = new RouteTemplate(pattern);
            Precedence = RoutePrecedence.ComputeInbound(template);
            _matcher = new TemplateMatcher(template, new RouteValueDictionary(pattern.Defaults));
            Signature = SignatureOf(pattern);
            BestHostSpecificity = hosts.Length == 0 ? 0 : hosts.Max(h => h.Specificity);
        }

        public string Name { get; }

        public string Pool { get; }

        public int Order { get; }

        /// <summary>Gets ASP.NET Core's inbound precedence of the template; lower is more specific.</summary>
        public decimal Precedence { get; }

        public HostPattern[] Hosts { get; }

        public int BestHostSpecificity { get; }

        /// <summary>Gets the template with parameter names left out, to find routes that match the same requests.</summary>
        public string Signature { get; }

        /// <summary>The specificity of the most specific host pattern that matches, or -1 when none does.</summary>
        public int MatchHost(string host, int? port)
        {
            var best = -1;
            foreach (var pattern in Hosts)
            {
                if (pattern.Specificity > best && pattern.Matches(host, port))
                {
                    best = pattern.Specificity;
                }
            }

            return best;
        }

        public bool MatchPath(HttpContext context, PathString path, RouteValueDictionary values)
        {
            if (!_matcher.TryMatch(path, values))
            {
                return false;
            }

            foreach (var (parameter, constraint) in _constraints)
            {
                if (!constraint.Match(context, null, parameter, values, RouteDirection.IncomingRequest))
                {
                    return false;
                }
            }

            return true;
        }

        private static string SignatureOf(RoutePattern pattern)
        {
            var text = new StringBuilder();
            foreach (var segment in pattern.PathSegments)
            {
                text.Append('/');
                foreach (var part in segment.Parts)
                {
                    switch (part)
                    {
                        case RoutePatternLiteralPart literal:
                            text.Append(literal.Content.ToUpperInvariant());
                            break;
                        case RoutePatternSeparatorPart separator:
                            text.Append(separator.Content);
                            break;
                        case RoutePatternParameterPart parameter:
                            text.Append('{')
                                .Append(parameter.IsCatchAll ? "*" : string.Empty)
                                .Append(parameter.IsOptional ? "?" : string.Empty)
                                .AppendJoin(':', parameter.ParameterPolicies.Select(p => p.Content))
                                .Append(parameter.Default is { } value ? "=" + Convert.ToString(value, CultureInfo.InvariantCulture) : string.Empty)
                                .Append('}');
                            break;
                    }
                }
            }

            return text.ToString();
        }
    }
}
