namespace Balancing;

/// <summary>Well-known names used by the balancer.</summary>
public static class LoadBalancerDefaults
{
    /// <summary>
    /// The name of the <c>HttpClient</c> configuration whose handler pipeline carries traffic to backends.
    /// Add your own <c>DelegatingHandler</c>s with <c>services.AddHttpClient(LoadBalancerDefaults.HttpClientName).AddHttpMessageHandler(...)</c>.
    /// </summary>
    public const string HttpClientName = "Balancing";

    /// <summary>The configuration section bound when no other is given.</summary>
    public const string ConfigurationSectionName = "LoadBalancer";
}
