using System.Text.Json;
using System.Text.Json.Nodes;
using ImageCaptioning.Persistence;
using Microsoft.Extensions.Options;

namespace CaptionServer;

/// <summary>Which kind of folder <c>--model</c> names, told by its files, and the captioner that serves it.</summary>
internal static class ServedCaptioner
{
    /// <summary>The file both kinds of folder have.</summary>
    public const string ConfigFile = CaptionModelBundle.ConfigFileName;

    /// <summary>Loads the folder of <see cref="CaptionServerOptions.Model"/> with the captioner of its kind.</summary>
    public static IServedCaptioner Load(IOptions<CaptionServerOptions> options, ILoggerFactory loggerFactory)
    {
        var settings = options.Value;
        return IsCheckpoint(settings.Model!)
            ? new CheckpointCaptioner(settings, loggerFactory)
            : new SavedCaptioner(settings, loggerFactory);
    }

    /// <summary>
    /// Why <paramref name="folder"/> is neither kind, or null when it may be one (its loader then reports what else is wrong).
    /// Both kinds keep a config.json; a hub checkpoint's names its class in <c>architectures</c> or <c>model_type</c>.
    /// </summary>
    public static string? WhyNeither(string folder) => File.Exists(Path.Combine(folder, ConfigFile))
        ? null
        : $"'{Path.GetFullPath(folder)}' is neither a saved captioner folder (Captioner.Save) nor a hub checkpoint folder: it has no {ConfigFile}";

    /// <summary>Whether config.json is a hub checkpoint's: it names the model class (<c>architectures</c>) or its type (<c>model_type</c>).</summary>
    private static bool IsCheckpoint(string folder)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(Path.Combine(folder, ConfigFile))) is JsonObject config
                && (config.ContainsKey("architectures") || config.ContainsKey("model_type"));
        }
        catch (JsonException)
        {
            // Not JSON at all: the saved captioner's loader names the file and the fault.
            return false;
        }
    }
}
