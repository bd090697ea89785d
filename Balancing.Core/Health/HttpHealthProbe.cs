using System.Globalization;
using Balancing.Configuration;
using Microsoft.Extensions.Http;

namespace Balancing.Health;

/// <summary>
/// Probes a backend with <c>GET {address}{Path}</c>; an answer whose status is in
/// <see cref="ActiveHealthCheckOptions.ExpectedStatusCodes"/> passes. The request goes through the handler pipeline of
/// the <see cref="LoadBalancerDefaults.HttpClientName"/> client, with the pool's HTTP version, so it reaches the backend
/// the way traffic does (same TLS settings, same handlers the app added). It is not counted as traffic.
/// </summary>
internal sealed class HttpHealthProbe : IHealthProbe, IDisposable
{
    private static readonly UriCreationOptions ExactUri = new() { DangerousDisablePathAndQueryCanonicalization = true };
    private readonly HttpMessageInvoker _invoker;
    private readonly string _path;
    private readonly HealthStatusCodes _expected;
    private readonly Version _version;
    private readonly HttpVersionPolicy _versionPolicy;

    public HttpHealthProbe(IHttpMessageHandlerFactory handlerFactory, PoolOptions pool)
    {
        ArgumentNullException.ThrowIfNull(handlerFactory);
        ArgumentNullException.ThrowIfNull(pool);
        var active = pool.HealthCheck.Active;
        ArgumentException.ThrowIfNullOrEmpty(active.Path);
        _invoker = new HttpMessageInvoker(handlerFactory.CreateHandler(LoadBalancerDefaults.HttpClientName), disposeHandler: false);
        _path = active.Path.StartsWith('/') ? active.Path : "/" + active.Path;
        _expected = HealthStatusCodes.TryParse(active.ExpectedStatusCodes, out var expected) ? expected : HealthStatusCodes.Success;
        _version = LoadBalancerOptionsValidator.TryParseHttpVersion(pool.HttpVersion, out var version) ? version : System.Net.HttpVersion.Version11;
        _versionPolicy = pool.VersionPolicy;
    }

    public async ValueTask<ProbeResult> ProbeAsync(BackendState backend, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(backend);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(backend.AddressPrefix + _path, in ExactUri))
        {
            Version = _version,
            VersionPolicy = _versionPolicy,
        };
        if (backend.Host is not null)
        {
            request.Headers.Host = backend.Host;
        }

        try
        {
            // Disposing the response without reading the body lets the handler drain or drop it; probes only need the status.
            using var response = await _invoker.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            return _expected.Contains(status)
                ? ProbeResult.Healthy(string.Create(CultureInfo.InvariantCulture, $"HTTP {status}"))
                : ProbeResult.Unhealthy(string.Create(CultureInfo.InvariantCulture, $"HTTP {status}, expected {_expected}"));
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested || ex.CancellationToken == cancellationToken)
        {
            // Either the probe's own timeout (the token) or the handler's connect timeout.
            return ProbeResult.Unhealthy("Timed out", ex);
        }
        catch (HttpRequestException ex)
        {
            return ProbeResult.Unhealthy(ex.Message, ex);
        }
    }

    public void Dispose() => _invoker.Dispose();
}
