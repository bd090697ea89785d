using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Balancing.Redis;

/// <summary>Checks <see cref="RedisOptions"/> at start-up, naming each bad key with its full path.</summary>
internal sealed class RedisOptionsValidator(string path, IReadOnlyList<string> keyErrors) : IValidateOptions<RedisOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisOptions options)
    {
        var errors = new List<string>(keyErrors);
        if (string.IsNullOrWhiteSpace(options.Configuration))
        {
            errors.Add($"{path}:Configuration: must name the Redis to connect to, for example 'localhost:6379'.");
        }
        else
        {
            try
            {
                _ = ConfigurationOptions.Parse(options.Configuration);
            }
            catch (ArgumentException e)
            {
                errors.Add($"{path}:Configuration: is not a valid StackExchange.Redis configuration string ({e.Message}).");
            }
        }

        CheckTimeout(options.ConnectTimeout, "ConnectTimeout", errors);
        CheckTimeout(options.OperationTimeout, "OperationTimeout", errors);
        if (!Enum.IsDefined(options.OnUnavailable))
        {
            errors.Add($"{path}:OnUnavailable: must be LocalFallback or FailClosed.");
        }

        if (string.IsNullOrWhiteSpace(options.ApplicationName))
        {
            errors.Add($"{path}:ApplicationName: must not be empty; every instance must use the same name to read each other's affinity pins.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private void CheckTimeout(TimeSpan value, string key, List<string> errors)
    {
        if (value < TimeSpan.FromMilliseconds(1) || value > TimeSpan.FromMinutes(1))
        {
            errors.Add($"{path}:{key}: must be from 00:00:00.001 to 00:01:00, not {value}.");
        }
    }
}
