using ImageCaptioning.Persistence;
using ImageCaptioning.Pretrained;
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
        return PretrainedCaptioner.IsCheckpointFolder(settings.Model!)
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
}
