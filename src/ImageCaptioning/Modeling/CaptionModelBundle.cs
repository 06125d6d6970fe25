using System.Reflection;
using ImageCaptioning.Text;
using ImageCaptioning.Vision;

namespace ImageCaptioning.Modeling;

/// <summary>
/// Everything needed to caption a new image: the model, its tokenizer, default decoding settings and a description
/// of the image features the model reads. <see cref="Save"/> writes a folder of <c>config.json</c>,
/// <c>model.safetensors</c> and <c>vocab.txt</c>; <see cref="Load"/> reads and validates one. The bundle owns its
/// model: disposing the bundle disposes the model.
/// </summary>
public sealed partial class CaptionModelBundle : IDisposable
{
    /// <summary>The settings file of a bundle folder.</summary>
    public const string ConfigFileName = "config.json";

    /// <summary>The weights file of a bundle folder (safetensors, state_dict key names).</summary>
    public const string ModelFileName = "model.safetensors";

    /// <summary>The tokenizer vocabulary of a bundle folder (one token per line, line i is id i).</summary>
    public const string VocabularyFileName = "vocab.txt";

    /// <summary>Bundles a trained model with the tokenizer that encoded its training captions.</summary>
    /// <param name="model">The model; the bundle takes ownership.</param>
    /// <param name="tokenizer">A <see cref="WordTokenizer"/> or <see cref="WordPieceTokenizer"/> matching the model's vocabulary and pad id.</param>
    /// <param name="decoding">How <see cref="Caption"/> decodes by default; greedy when null.</param>
    /// <param name="featureExtractor">Which image features the model was trained on, or null when unknown.</param>
    /// <exception cref="ArgumentException">The parts do not fit together; the message says which.</exception>
    public CaptionModelBundle(CaptionModel model, ICaptionTokenizer tokenizer, DecodingOptions? decoding = null, FeatureExtractorDescription? featureExtractor = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (tokenizer is not (WordTokenizer or WordPieceTokenizer))
            throw new ArgumentException($"a bundle can store a {nameof(WordTokenizer)} or a {nameof(WordPieceTokenizer)}, not a {tokenizer.GetType().Name}", nameof(tokenizer));
        if (tokenizer.VocabularySize != model.Options.VocabularySize)
            throw new ArgumentException($"the tokenizer has {tokenizer.VocabularySize} tokens but the model's vocabulary has {model.Options.VocabularySize}", nameof(tokenizer));
        if (tokenizer.PadId != model.Options.PadId)
            throw new ArgumentException($"the tokenizer's pad id is {tokenizer.PadId} but the model's is {model.Options.PadId}", nameof(tokenizer));
        if (featureExtractor is not null && featureExtractor.Dimension != model.Options.FeatureDimension)
            throw new ArgumentException($"the feature extractor gives {featureExtractor.Dimension}-float features but the model reads {model.Options.FeatureDimension}", nameof(featureExtractor));
        Model = model;
        Tokenizer = tokenizer;
        Decoding = (decoding ?? DecodingOptions.Greedy).Validate();
        FeatureExtractor = featureExtractor;
    }

    /// <summary>The model.</summary>
    public CaptionModel Model { get; }

    /// <summary>The tokenizer of the model's vocabulary.</summary>
    public ICaptionTokenizer Tokenizer { get; }

    /// <summary>The default decoding settings.</summary>
    public DecodingOptions Decoding { get; }

    /// <summary>The image features the model reads, when known.</summary>
    public FeatureExtractorDescription? FeatureExtractor { get; }

    /// <summary>The library version that wrote bundles and checkpoints.</summary>
    internal static string LibraryVersion { get; } =
        typeof(CaptionModelBundle).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(CaptionModelBundle).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>A decoder over the model with the tokenizer's start and end marks.</summary>
    public CaptionDecoder CreateDecoder() => new(Model, Tokenizer.StartId, Tokenizer.EndId);

    /// <summary>The caption text of each row of <paramref name="features"/> [N, D], decoded with <paramref name="options"/> or <see cref="Decoding"/>.</summary>
    public IReadOnlyList<string> Caption(Tensor features, DecodingOptions? options = null) =>
        [.. CreateDecoder().Decode(features, options ?? Decoding).Select(caption => Tokenizer.Decode(caption.Tokens))];

    /// <summary>Frees the model.</summary>
    public void Dispose() => Model.Dispose();
}

/// <summary>The image features a captioning model was trained on: how to compute them for a new image.</summary>
/// <param name="Name">The extractor, e.g. "vgg16-fc7" or "resnet50-avgpool".</param>
/// <param name="Dimension">Floats per feature row.</param>
/// <param name="Preprocessing">The image transform applied before the extractor, or null when not recorded.</param>
public sealed record FeatureExtractorDescription(string Name, int Dimension, ImageTransformOptions? Preprocessing = null);
