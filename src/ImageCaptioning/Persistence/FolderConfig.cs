using System.Text.Json;
using System.Text.Json.Serialization;
using ImageCaptioning.Modeling;

namespace ImageCaptioning.Persistence;

/// <summary>config.json of a captioner folder: everything about the folder but its tensors and vocabulary, and their SHA-256.</summary>
internal sealed class FolderConfig
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    public int Format { get; set; }
    public string? LibraryVersion { get; set; }
    public CaptionModelOptions? Model { get; set; }
    public TokenizerConfig? Tokenizer { get; set; }
    public DecodingOptions? Decoding { get; set; }
    public FeatureExtractorConfig? FeatureExtractor { get; set; }

    /// <summary>The captioner's settings (format 2); null in a bundle saved without them, and in format 1, which kept them in pipeline.json.</summary>
    public CaptionerConfig? Captioner { get; set; }

    /// <summary>File name → SHA-256 (lower-case hex) of each file written with this configuration; null in older bundles.</summary>
    public Dictionary<string, string>? Sha256 { get; set; }
}
