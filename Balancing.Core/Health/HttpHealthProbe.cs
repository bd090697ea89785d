using Microsoft.Extensions.Http;

namespace Balancing.Health;

/// <summary>Probes a backend with <c>GET {address}{path}</c>; a 2xx answer passes.</summary>
internal sealed class HttpHealthProbe : IHealthProbe, IDisposable
{
    private static readonly UriCreationOptions ExactUri = new() { DangerousDisablePathAndQueryCanonicalization = true };
    private readonly HttpMessageInvoker _invoker;
    private readonly string _path;

    public HttpHealthProbe(IHttpMessageHandlerFactory handlerFactory, string path)
    {
        ArgumentNullException.ThrowIfNull(handlerFactory);
        ArgumentException.ThrowIfNullOrEmpty(path);
        _invoker = new HttpMessageInvoker(handlerFactory.CreateHandler(LoadBalancerDefaults.HttpClientName), disposeHandler: false);
        _path = path.StartsWith('/') ? path : "/" + path;
    }

    public async ValueTask<ProbeResult> ProbeAsync(BackendState backend, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(backend);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(backend.AddressPrefix + _path, in ExactUri));
        try
        {
            using var response = await _invoker.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            return status is >= 200 and < 300
                ? ProbeResult.Healthy($"HTTP {status}")
                : ProbeResult.Unhealthy($"HTTP {status}");
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested || ex.CancellationToken == cancellationToken)
        {
            return ProbeResult.Unhealthy("Timed out", ex);
        }
        catch (HttpRequestException ex)
        {
            return ProbeResult.Unhealthy(ex.HttpRequestError.ToString(), ex);
        }
    }

    public void Dispose() => _invoker.Dispose();
}
