using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Balancing.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Balancing.AspNetCore.Tests.Forwarding;

/// <summary>HTTPS backends whose certificates come from a private authority made in the test.</summary>
[TestClass]
public sealed class BackendTlsTests
{
    [TestMethod]
    public async Task HttpsBackend_PrivateCaNotTrusted_Answers502AsAConnectFailure()
    {
        using var ca = TestAuthority.Create("Test CA");
        await using var backend = await HttpsBackend.StartAsync(ca.Issue(ip: IPAddress.Loopback));
        await using var balancer = await BalancerHost.StartAsync(Settings(backend));

        using var response = await balancer.Client.GetAsync("/secure");

        Assert.AreEqual(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.AreEqual(0, backend.Requests);
        var failed = balancer.Logs.GetSnapshot().Single(r => r.Id.Name == "ForwardFailed");
        StringAssert.Contains(failed.Message, "ConnectFailed");
    }

    [TestMethod]
    public async Task HttpsBackend_PoolTrustsItsCa_Forwards()
    {
        using var ca = TestAuthority.Create("Test CA");
        await using var backend = await HttpsBackend.StartAsync(ca.Issue(ip: IPAddress.Loopback));
        await using var balancer = await BalancerHost.StartAsync(Settings(backend, ca));

        using var response = await balancer.Client.GetAsync("/secure");

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual("secure hello", await response.Content.ReadAsStringAsync());
    }

    [TestMethod]
    public async Task HttpsBackend_CertificateFromAnotherCa_Answers502()
    {
        using var trusted = TestAuthority.Create("Trusted CA");
        using var other = TestAuthority.Create("Other CA");
        await using var backend = await HttpsBackend.StartAsync(other.Issue(ip: IPAddress.Loopback));
        await using var balancer = await BalancerHost.StartAsync(Settings(backend, trusted));

        using var response = await balancer.Client.GetAsync("/secure");

        Assert.AreEqual(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.AreEqual(0, backend.Requests);
    }

    [TestMethod]
    public async Task HttpsBackend_ServerNameMatchesTheCertificate_Forwards()
    {
        using var ca = TestAuthority.Create("Test CA");
        await using var backend = await HttpsBackend.StartAsync(ca.Issue(dnsName: "orders.internal"));
        await using var balancer = await BalancerHost.StartAsync(Settings(backend, ca, "orders.internal"));

        using var response = await balancer.Client.GetAsync("/secure");

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
    }

    [TestMethod]
    public async Task HttpsBackend_ServerNameNotInTheCertificate_Answers502()
    {
        using var ca = TestAuthority.Create("Test CA");
        await using var backend = await HttpsBackend.StartAsync(ca.Issue(dnsName: "orders.internal", ip: IPAddress.Loopback));
        await using var balancer = await BalancerHost.StartAsync(Settings(backend, ca, "billing.internal"));

        using var response = await balancer.Client.GetAsync("/secure");

        Assert.AreEqual(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.AreEqual(0, backend.Requests);
    }

    [TestMethod]
    public async Task Start_CaCertificateFileMissing_FailsNamingTheKey()
    {
        var settings = new Dictionary<string, string?>
        {
            ["LoadBalancer:Pools:default:Backends:b1:Address"] = "https://127.0.0.1:9443",
            ["LoadBalancer:Pools:default:Tls:CaCertificatePath"] = Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}.pem"),
        };

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => BalancerHost.StartAsync(settings));

        StringAssert.Contains(error.Message, "LoadBalancer:Pools:default:Tls:CaCertificatePath");
        StringAssert.Contains(error.Message, "does not exist");
    }

    [TestMethod]
    public async Task Start_TwoPoolsOneHostDifferentTls_FailsNamingThePool()
    {
        using var ca = TestAuthority.Create("Test CA");
        var settings = new Dictionary<string, string?>
        {
            ["LoadBalancer:Pools:default:Backends:b1:Address"] = "https://10.0.0.5:9443",
            ["LoadBalancer:Pools:other:Backends:b1:Address"] = "https://10.0.0.5:9444",
            ["LoadBalancer:Pools:other:Tls:CaCertificatePath"] = ca.PemPath,
        };

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => BalancerHost.StartAsync(settings));

        StringAssert.Contains(error.Message, "LoadBalancer:Pools:other:Tls");
        StringAssert.Contains(error.Message, "10.0.0.5");
    }

    [TestMethod]
    public async Task Start_TlsWithPreserveHostHeader_FailsNamingBothKeys()
    {
        var settings = new Dictionary<string, string?>
        {
            ["LoadBalancer:Pools:default:Backends:b1:Address"] = "https://10.0.0.5:9443",
            ["LoadBalancer:Pools:default:PreserveHostHeader"] = "true",
            ["LoadBalancer:Pools:default:Tls:ServerName"] = "orders.internal",
        };

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => BalancerHost.StartAsync(settings));

        StringAssert.Contains(error.Message, "LoadBalancer:Pools:default:Tls: cannot be combined with LoadBalancer:Pools:default:PreserveHostHeader");
    }

    /// <summary>One pool over <paramref name="backend"/>, trusting <paramref name="ca"/> when given.</summary>
    private static Dictionary<string, string?> Settings(HttpsBackend backend, TestAuthority? ca = null, string? serverName = null)
    {
        var settings = new Dictionary<string, string?> { ["LoadBalancer:Pools:default:Backends:secure:Address"] = backend.Address };
        if (ca is not null)
        {
            settings["LoadBalancer:Pools:default:Tls:CaCertificatePath"] = ca.PemPath;
        }

        if (serverName is not null)
        {
            settings["LoadBalancer:Pools:default:Tls:ServerName"] = serverName;
        }

        return settings;
    }

    /// <summary>A private certificate authority, its certificate written to a PEM file as an operator would ship it.</summary>
    private sealed class TestAuthority : IDisposable
    {
        private readonly X509Certificate2 _certificate;
        private readonly RSA _key;

        private TestAuthority(X509Certificate2 certificate, RSA key, string pemPath)
        {
            _certificate = certificate;
            _key = key;
            PemPath = pemPath;
        }

        public string PemPath { get; }

        public static TestAuthority Create(string name)
        {
            var key = RSA.Create(2048);
            var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
            var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
            var path = Path.Combine(Path.GetTempPath(), $"balancing-ca-{Guid.NewGuid():N}.pem");
            File.WriteAllText(path, certificate.ExportCertificatePem());
            return new TestAuthority(certificate, key, path);
        }

        /// <summary>A server certificate (with its private key) for the names given, signed by this authority.</summary>
        public X509Certificate2 Issue(string? dnsName = null, IPAddress? ip = null)
        {
            using var key = RSA.Create(2048);
            var request = new CertificateRequest("CN=backend", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var names = new SubjectAlternativeNameBuilder();
            if (dnsName is not null)
            {
                names.AddDnsName(dnsName);
            }

            if (ip is not null)
            {
                names.AddIpAddress(ip);
            }

            request.CertificateExtensions.Add(names.Build());
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_certificate, true, false));
            var serial = RandomNumberGenerator.GetBytes(16);
            using var signed = request.Create(_certificate, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7), serial);
            using var withKey = signed.CopyWithPrivateKey(key);
            return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pfx), null);
        }

        public void Dispose()
        {
            File.Delete(PemPath);
            _certificate.Dispose();
            _key.Dispose();
        }
    }

    /// <summary>A Kestrel backend on 127.0.0.1 serving HTTPS with the certificate given.</summary>
    private sealed class HttpsBackend : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly X509Certificate2 _certificate;
        private int _requests;

        private HttpsBackend(WebApplication app, X509Certificate2 certificate)
        {
            _app = app;
            _certificate = certificate;
        }

        public string Address => _app.Urls.First();

        public int Requests => Volatile.Read(ref _requests);

        public static async Task<HttpsBackend> StartAsync(X509Certificate2 certificate)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrelHttpsConfiguration();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.UseHttps(certificate)));
            var app = builder.Build();
            var backend = new HttpsBackend(app, certificate);
            app.Run(context =>
            {
                Interlocked.Increment(ref backend._requests);
                return context.Response.WriteAsync("secure hello");
            });
            await app.StartAsync();
            return backend;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.DisposeAsync();
            _certificate.Dispose();
        }
    }
}
