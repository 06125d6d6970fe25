using System.Text.Json;
using System.Text.Json.Serialization;
using ImageCaptioning.IO;
using ImageCaptioning.Modeling;

namespace ImageCaptioning.Persistence;

/// <summary>config.json of a captioner folder: everything about the folder but its tensors and vocabulary, and their SHA-256.</summary>
internal sealed class FolderConfig
{
    public static readonly JsonSerializerOptions Json = JsonFile.Strict(new JsonSerializerOptions
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    });

    public int Format { get; set; }
    public string? LibraryVersion { get; set; }
    /// <summary>A Show-and-Tell model's options (the only kind formats 1 and 2 had); null for the other architectures.</summary>
    public CaptionModelOptions? Model { get; set; }

    /// <summary>A soft-attention model's options, or null.</summary>
    public SoftAttentionOptions? SoftAttention { get; set; }

    /// <summary>A transformer model's options, or null.</summary>
    public TransformerCaptionOptions? Transformer { get; set; }

    /// <summary>The trainable encoder inside the model, or null when the model reads cached features.</summary>
    public EncoderConfig? Encoder { get; set; }
    public TokenizerConfig? Tokenizer { get; set; }
    public DecodingOptions? Decoding { get; set; }
    public FeatureExtractorConfig? FeatureExtractor { get; set; }

    /// <summary>The captioner's settings (format 2); null in a bundle saved without them, and in format 1, which kept them in pipeline.json.</summary>
    public CaptionerConfig? Captioner { get; set; }

    /// <summary>
    /// File name → SHA-256 (lower-case hex) of each file written with this configuration, and under
    /// <c>config.json</c> the digest of this configuration without this section (see <see cref="CaptionerFolder"/>);
    /// null in format 1.
    /// </summary>
    public Dictionary<string, string>? Sha256 { get; set; }
}
