namespace Balancing.AspNetCore.Forwarding;

/// <summary>Maps Kestrel's interned method strings to <see cref="HttpMethod"/> instances without allocating.</summary>
internal static class HttpMethodCache
{
    public static HttpMethod Get(string method) => method switch
    {
        "GET" => HttpMethod.Get,
        "POST" => HttpMethod.Post,
        "PUT" => HttpMethod.Put,
        "DELETE" => HttpMethod.Delete,
        "HEAD" => HttpMethod.Head,
        "OPTIONS" => HttpMethod.Options,
        "PATCH" => HttpMethod.Patch,
        "TRACE" => HttpMethod.Trace,
        "CONNECT" => HttpMethod.Connect,
        _ => new HttpMethod(method),
    };
}
