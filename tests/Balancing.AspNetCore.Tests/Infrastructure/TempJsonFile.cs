namespace Balancing.AspNetCore.Tests.Infrastructure;

/// <summary>A JSON configuration file in the temp folder that a test rewrites to make the balancer reload.</summary>
internal sealed class TempJsonFile : IDisposable
{
    public TempJsonFile(string content)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"balancing-{Guid.NewGuid():N}.json");
        File.WriteAllText(Path, content);
    }

    public string Path { get; }

    public void Write(string content) => File.WriteAllText(Path, content);

    public void Dispose() => File.Delete(Path);
}
