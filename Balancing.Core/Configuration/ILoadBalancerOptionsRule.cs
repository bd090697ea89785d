namespace Balancing.Configuration;

/// <summary>
/// A rule on the whole configuration that another part of the balancer contributes: the front door checks its route
/// templates, which the engine cannot parse. Rules run with the built-in checks at start-up and on every reload, so
/// their errors fail start-up or reject the reload together with the others.
/// </summary>
internal interface ILoadBalancerOptionsRule
{
    /// <summary>Adds one message per problem to <paramref name="errors"/>, each prefixed with the full key.</summary>
    /// <param name="options">The bound configuration.</param>
    /// <param name="sectionPath">The section's path, such as <c>LoadBalancer</c>.</param>
    /// <param name="errors">Receives the problems.</param>
    void Validate(LoadBalancerOptions options, string sectionPath, List<string> errors);
}
