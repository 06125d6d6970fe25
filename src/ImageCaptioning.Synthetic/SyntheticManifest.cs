using System.Text.Json;
using System.Text.Json.Serialization;
using ImageCaptioning.IO;

namespace ImageCaptioning.Synthetic;

/// <summary>
/// <c>synthetic.json</c>, written last: it names the options that produced the folder and the length of every file
/// written, so a later run can tell a complete dataset of the same options from a partial or different one.
/// </summary>
internal sealed record SyntheticManifest(int GeneratorVersion, string OptionsHash, int ImageCount, IReadOnlyDictionary<string, long> Files)
{
    /// <summary>The manifest at <paramref name="path"/>, or null when there is none or it cannot be read.</summary>
    public static SyntheticManifest? TryRead(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var stream = File.OpenRead(path);
            return JsonSerializer.Deserialize(stream, SyntheticJsonContext.Default.SyntheticManifest);
        }
        catch (Exception exception) when (exception is JsonException or IOException or UnauthorizedAccessException)
        {
            // An unreadable manifest only means the dataset is regenerated.
            return null;
        }
    }

    public void Write(string path) =>
        AtomicFile.Write(path, stream => JsonSerializer.Serialize(stream, this, SyntheticJsonContext.Default.SyntheticManifest));

    /// <summary>Whether every listed file exists under <paramref name="root"/> with its recorded length.</summary>
    public bool IsCompleteIn(string root)
    {
        if (Files is null || Files.Count == 0) return false;
        foreach (var (relative, length) in Files)
        {
            if (TryResolve(root, relative) is not { } path) return false;
            var file = new FileInfo(path);
            if (!file.Exists || file.Length != length) return false;
        }
        return true;
    }

    /// <summary>
    /// The full path of a manifest entry, or null unless it is <c>captions.txt</c> or a plain file name under
    /// <c>Images/</c>: a tampered manifest must never make the generator touch other files.
    /// </summary>
    public static string? TryResolve(string root, string relative)
    {
        if (relative == SyntheticCaptionedImages.CaptionsFileName) return Path.Combine(root, relative);
        var prefix = SyntheticCaptionedImages.ImagesFolderName + "/";
        if (!relative.StartsWith(prefix, StringComparison.Ordinal)) return null;
        var name = relative[prefix.Length..];
        if (name.Length == 0 || name is "." or ".." || name != Path.GetFileName(name) || name.Contains('\\')) return null;
        return Path.Combine(root, SyntheticCaptionedImages.ImagesFolderName, name);
    }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(SyntheticManifest))]
internal sealed partial class SyntheticJsonContext : JsonSerializerContext;
