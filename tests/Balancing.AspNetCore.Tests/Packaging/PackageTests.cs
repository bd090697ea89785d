using System.Diagnostics;
using System.IO.Compression;
using System.Security;
using System.Text;
using System.Xml.Linq;
using Balancing.AspNetCore.Tests.Infrastructure;

namespace Balancing.AspNetCore.Tests.Packaging;

/// <summary>
/// The packages as a consumer gets them: <c>dotnet pack</c> of the solution, the contents and metadata of every
/// package, and a fresh web app outside the repository that restores <c>Balancing.AspNetCore</c> from the packed
/// folder, builds, starts and forwards a request to a real backend.
/// </summary>
/// <remarks>
/// Every run packs a version of its own (<c>0.0.0-test.r&lt;guid&gt;</c>), so the machine's package cache can never
/// hand the consumer a copy packed by an earlier run. Slow (a pack, a restore and two builds): category Packaging.
/// </remarks>
[TestClass]
[TestCategory("Packaging")]
public sealed class PackageTests
{
    private const string TargetFramework = "net10.0";
    private static readonly string[] PackageIds = ["Balancing.Abstractions", "Balancing.Core", "Balancing.AspNetCore", "Balancing.Redis"];
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private static readonly string Version = $"0.0.0-test.r{Guid.NewGuid():N}";
    private static string _workRoot = string.Empty;
    private static string _packageFolder = string.Empty;

    public TestContext TestContext { get; set; } = null!;

    [ClassInitialize]
    [Timeout(600_000, CooperativeCancellation = true)]
    public static async Task PackSolutionAsync(TestContext context)
    {
        _workRoot = Directory.CreateTempSubdirectory("balancing-package-test-").FullName;
        _packageFolder = Path.Combine(_workRoot, "packages");
        var repository = FindRepositoryRoot();
        var pack = await RunAsync(
            ["pack", Path.Combine(repository, "Balancing.sln"), "-c", "Release", "-o", _packageFolder, $"-p:Version={Version}", "--disable-build-servers"],
            repository,
            context.CancellationToken);
        AssertSucceeded(pack, "dotnet pack Balancing.sln");
    }

    [ClassCleanup]
    public static void DeletePackages()
    {
        if (_workRoot.Length > 0 && Directory.Exists(_workRoot))
        {
            Directory.Delete(_workRoot, recursive: true);
        }

        // The consumer's restore extracted this run's unique version into the machine's cache; nothing will use it again.
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var id in PackageIds)
        {
            var extracted = Path.Combine(cache, id.ToLowerInvariant(), Version);
            if (Directory.Exists(extracted))
            {
                Directory.Delete(extracted, recursive: true);
                if (!Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(extracted)!).Any())
                {
                    Directory.Delete(Path.GetDirectoryName(extracted)!);
                }
            }
        }
    }

    [TestMethod]
    public void Pack_Solution_ProducesOnePackageAndOneSymbolPackagePerShippedProject()
    {
        var expected = PackageIds
            .SelectMany(id => new[] { $"{id}.{Version}.nupkg", $"{id}.{Version}.snupkg" })
            .Order(StringComparer.Ordinal)
            .ToList();

        var produced = Directory.GetFiles(_packageFolder)
            .Select(Path.GetFileName)
            .Order(StringComparer.Ordinal)
            .ToList();

        CollectionAssert.AreEqual(expected, produced, $"Produced: {string.Join(", ", produced)}");
    }

    [TestMethod]
    public void Pack_EachPackage_CarriesReadmeLicenseAssemblyAndDocumentation()
    {
        foreach (var id in PackageIds)
        {
            using var package = ZipFile.OpenRead(PackagePath(id, "nupkg"));
            var entries = package.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);

            foreach (var required in new[] { "README.md", "LICENSE", $"lib/{TargetFramework}/{id}.dll", $"lib/{TargetFramework}/{id}.xml" })
            {
                Assert.Contains(required, entries, $"{id} lacks {required}; it has {string.Join(", ", entries)}");
            }
        }
    }

    [TestMethod]
    public void Pack_EachPackage_DeclaresMitLicenseReadmeAndGitRepository()
    {
        foreach (var id in PackageIds)
        {
            var metadata = ReadNuspecMetadata(id);

            Assert.AreEqual(Version, Element(metadata, "version")?.Value, $"{id}: version");
            var license = Element(metadata, "license");
            Assert.IsNotNull(license, $"{id}: no <license>");
            Assert.AreEqual("expression", license.Attribute("type")?.Value, $"{id}: license type");
            Assert.AreEqual("MIT", license.Value, $"{id}: license expression");
            Assert.AreEqual("README.md", Element(metadata, "readme")?.Value, $"{id}: readme");

            // The url comes from the clone's remote, so a repository without one has none; the type is always stated.
            var repository = Element(metadata, "repository");
            Assert.IsNotNull(repository, $"{id}: no <repository>");
            Assert.AreEqual("git", repository.Attribute("type")?.Value, $"{id}: repository type");
            if (repository.Attribute("url") is { } url)
            {
                Assert.IsFalse(string.IsNullOrWhiteSpace(url.Value), $"{id}: empty repository url");
            }
        }
    }

    [TestMethod]
    [DataRow("Balancing.Core", "Balancing.Abstractions")]
    [DataRow("Balancing.AspNetCore", "Balancing.Core")]
    [DataRow("Balancing.Redis", "Balancing.AspNetCore")]
    public void Pack_SiblingDependency_IsPinnedToTheSameVersion(string id, string sibling)
    {
        var metadata = ReadNuspecMetadata(id);

        var dependency = metadata.Descendants().Single(e => e.Name.LocalName == "dependency" && e.Attribute("id")?.Value == sibling);

        // The packages use each other's internals, so "this version or later" would be a lie.
        Assert.AreEqual($"[{Version}]", dependency.Attribute("version")?.Value);
    }

    [TestMethod]
    public void Pack_EachSymbolPackage_CarriesThePdb()
    {
        foreach (var id in PackageIds)
        {
            using var symbols = ZipFile.OpenRead(PackagePath(id, "snupkg"));
            var entries = symbols.Entries.Select(e => e.FullName).ToList();

            Assert.Contains($"lib/{TargetFramework}/{id}.pdb", entries, $"{id}.snupkg has {string.Join(", ", entries)}");
        }
    }

    [TestMethod]
    [Timeout(600_000, CooperativeCancellation = true)]
    public async Task Consumer_FreshWebAppOnThePackage_ForwardsToTheBackend()
    {
        var cancellationToken = TestContext.CancellationToken;
        var project = Directory.CreateDirectory(Path.Combine(_workRoot, "consumer")).FullName;
        WriteConsumerProject(project);

        var build = await RunAsync(["build", project, "-c", "Release", "--disable-build-servers"], project, cancellationToken);
        AssertSucceeded(build, "dotnet build of the consumer app");
        TestContext.WriteLine($"{build.Command}: {build.Elapsed.TotalSeconds:F1} s");

        await using var backend = await TestBackend.StartAsync("packaged-backend");
        var app = Path.Combine(project, "bin", "Release", TargetFramework, "Consumer.dll");
        Assert.IsTrue(File.Exists(app), $"The build wrote no {app}.\n{build.Output}");

        using var process = Start(
            CreateStartInfo([app, "--urls", "http://127.0.0.1:0", "--LoadBalancer:Pools:default:Backends:b1:Address=" + backend.Address], project));
        var output = new StringBuilder();
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) => OnOutput(e.Data);
        process.ErrorDataReceived += (_, e) => OnOutput(e.Data);
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"The consumer app exited with {process.ExitCode} before listening."));
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var address = await WaitUntilListeningAsync(listening.Task, output, cancellationToken);
            using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
            var answer = await client.GetStringAsync("/through/the/package", cancellationToken);

            Assert.AreEqual(backend.Name, answer, Snapshot(output));
            Assert.AreEqual("/through/the/package", Assert.ContainsSingle(backend.Received).Path);
            TestContext.WriteLine(Snapshot(output));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync(CancellationToken.None);
        }

        void OnOutput(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(line);
            }

            const string Marker = "Now listening on: ";
            var at = line.IndexOf(Marker, StringComparison.Ordinal);
            if (at >= 0)
            {
                listening.TrySetResult(new Uri(line[(at + Marker.Length)..].Trim()));
            }
        }
    }

    private static async Task<Uri> WaitUntilListeningAsync(Task<Uri> listening, StringBuilder output, CancellationToken cancellationToken)
    {
        try
        {
            return await listening.WaitAsync(StartTimeout, cancellationToken);
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
        {
            throw new AssertFailedException($"The consumer app did not start listening: {ex.Message}\n{Snapshot(output)}", ex);
        }
    }

    private static void WriteConsumerProject(string folder)
    {
        // Empty props and targets stop the search upwards, so nothing of any enclosing folder (such as the
        // repository's central package versions) reaches the consumer.
        File.WriteAllText(Path.Combine(folder, "Directory.Build.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(folder, "Directory.Build.targets"), "<Project />\n");
        File.WriteAllText(Path.Combine(folder, "Directory.Packages.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(folder, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk.Web">
              <PropertyGroup>
                <TargetFramework>{TargetFramework}</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Balancing.AspNetCore" Version="[{Version}]" />
              </ItemGroup>
            </Project>

            """);

        // The packed folder is added to the machine's sources, which stay: the dependencies come from there.
        File.WriteAllText(Path.Combine(folder, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="balancing-under-test" value="{SecurityElement.Escape(_packageFolder)}" />
              </packageSources>
            </configuration>

            """);
        File.WriteAllText(Path.Combine(folder, "Program.cs"), """
            var b = WebApplication.CreateBuilder(args);
            b.Services.AddLoadBalancer();
            var app = b.Build();
            app.UseLoadBalancer();
            app.Run();

            """);
    }

    private static XElement ReadNuspecMetadata(string id)
    {
        using var package = ZipFile.OpenRead(PackagePath(id, "nupkg"));
        var entry = package.GetEntry($"{id}.nuspec");
        Assert.IsNotNull(entry, $"{id} has no {id}.nuspec");
        using var stream = entry.Open();
        var metadata = XDocument.Load(stream).Root?.Elements().FirstOrDefault(e => e.Name.LocalName == "metadata");
        Assert.IsNotNull(metadata, $"{id}.nuspec has no <metadata>");
        return metadata;
    }

    private static XElement? Element(XElement parent, string localName)
        => parent.Elements().FirstOrDefault(e => e.Name.LocalName == localName);

    private static string PackagePath(string id, string extension)
        => Path.Combine(_packageFolder, $"{id}.{Version}.{extension}");

    private static string FindRepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Balancing.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No Balancing.sln above {AppContext.BaseDirectory}.");
    }

    private static ProcessStartInfo CreateStartInfo(IEnumerable<string> arguments, string workingDirectory)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The test host may run under MSBuild (dotnet test); its MSBuild variables would steer the child's build.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        return start;
    }

    private static string DotnetHost()
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (host is not null && File.Exists(host))
        {
            return host;
        }

        var current = Environment.ProcessPath;
        return current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
    }

    private static Process Start(ProcessStartInfo start)
        => Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName}.");

    private static async Task<CommandResult> RunAsync(IEnumerable<string> arguments, string workingDirectory, CancellationToken cancellationToken)
    {
        var start = CreateStartInfo(arguments, workingDirectory);
        var output = new StringBuilder();
        var started = Stopwatch.GetTimestamp();
        using var process = Start(start);
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            Append($"[killed: still running after {CommandTimeout} or the test was cancelled]");
        }

        var command = $"dotnet {string.Join(' ', start.ArgumentList)}";
        return new CommandResult(command, process.ExitCode, Snapshot(output), Stopwatch.GetElapsedTime(started));

        void Append(string? line)
        {
            if (line is not null)
            {
                lock (output)
                {
                    output.AppendLine(line);
                }
            }
        }
    }

    private static string Snapshot(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    private static void AssertSucceeded(CommandResult result, string what)
    {
        // MSBuild prints errors once where they happen and again in the summary; the end holds the summary.
        const int Tail = 12_000;
        var output = result.Output.Length > Tail ? "…" + result.Output[^Tail..] : result.Output;
        Assert.AreEqual(0, result.ExitCode, $"{what} failed.\n> {result.Command}\n{output}");
    }

    private sealed record CommandResult(string Command, int ExitCode, string Output, TimeSpan Elapsed);
}
