using Microsoft.Extensions.Configuration;

namespace Balancing.Core.Tests.Infrastructure;

/// <summary>
/// An in-memory configuration provider whose whole content can be replaced, so a test can remove keys
/// (which <c>MemoryConfigurationProvider</c> cannot) before it calls <see cref="IConfigurationRoot.Reload"/>.
/// </summary>
internal sealed class MutableConfigurationProvider : ConfigurationProvider, IConfigurationSource
{
    public MutableConfigurationProvider(IDictionary<string, string?> settings)
    {
        Replace(settings);
    }

    /// <summary>Replaces every key; the change is seen on the next reload of the root.</summary>
    public void Replace(IDictionary<string, string?> settings)
        => Data = new Dictionary<string, string?>(settings, StringComparer.OrdinalIgnoreCase);

    // Load keeps the data as the test left it: IConfigurationRoot.Reload calls it before raising the reload token.
    public override void Load()
    {
    }

    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;
}
