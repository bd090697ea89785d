using System.Net;
using Balancing.AspNetCore.Forwarding;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Balancing.AspNetCore.Admin;

/// <summary>Marks an admin endpoint as open to clients other than the local machine (see <c>AllowRemoteAccess()</c>).</summary>
internal sealed class AllowRemoteAdminAccess
{
    public static readonly AllowRemoteAdminAccess Instance = new();
}

/// <summary>
/// The admin endpoints (metrics, stats, dashboard, cache purge) answer only loopback clients unless the app opens them
/// with <c>AllowRemoteAccess()</c>: what they show (backend addresses, error rates) helps an attacker, and opening them
/// should be a visible line in the app, next to the authorization it puts in front of them.
/// </summary>
internal static class AdminEndpoint
{
    /// <summary>Wraps every endpoint <paramref name="builder"/> builds in the loopback check.</summary>
    public static TBuilder LoopbackOnlyUnlessOpened<TBuilder>(TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(endpoint =>
        {
            var inner = endpoint.RequestDelegate;
            if (inner is null)
            {
                return;
            }

            endpoint.RequestDelegate = context => IsAllowed(context) ? inner(context) : RefuseAsync(context);
        });
        return builder;
    }

    /// <summary>Whether the request may reach the admin endpoint: it was opened, or the client is this machine.</summary>
    public static bool IsAllowed(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<AllowRemoteAdminAccess>() is not null)
        {
            return true;
        }

        var remote = context.Connection.RemoteIpAddress;

        // No address: an in-process server (TestServer) with no network peer at all.
        return remote is null || IPAddress.IsLoopback(remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote);
    }

    private static Task RefuseAsync(HttpContext context)
        => ProblemResponse.WriteAsync(
            context,
            StatusCodes.Status403Forbidden,
            "This load balancer admin endpoint answers local clients only; the app opens it to others with AllowRemoteAccess().");
}
