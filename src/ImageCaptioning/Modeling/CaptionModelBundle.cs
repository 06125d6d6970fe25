using System.Reflection;
using ImageCaptioning.Text;
using ImageCaptioning.Vision;
using Tokenizer = Microsoft.ML.Tokenizers.Tokenizer;

namespace ImageCaptioning.Modeling;

/// <summary>
/// Everything needed to caption a new image: the model, its tokenizer, default decoding settings and a description
/// of the image features the model reads. <see cref="Save"/> writes a folder of <c>config.json</c>,
/// <c>model.safetensors</c> and <c>vocab.txt</c>; <see cref="Load"/> reads and validates one. The bundle owns its
/// model: disposing the bundle disposes the model. A <see cref="WordTokenizer"/> or <see cref="WordPieceTokenizer"/> is
/// saved whole; a vocabulary mapped over another Microsoft.ML.Tokenizers tokenizer saves its id map, and loading it
/// takes that tokenizer again.
/// </summary>
public sealed partial class CaptionModelBundle : IDisposable
{
    /// <summary>The settings file of a bundle folder.</summary>
    public const string ConfigFileName = "config.json";

    /// <summary>The weights file of a bundle folder (safetensors, state_dict key names).</summary>
    public const string ModelFileName = "model.safetensors";

    /// <summary>
    /// The vocabulary of a bundle folder, line i for id i: the token, or for a mapped vocabulary the tokenizer's id
    /// (after the four special ids' names).
    /// </summary>
    public const string VocabularyFileName = "vocab.txt";

    /// <summary>Bundles a trained model with the <see cref="WordTokenizer"/> or <see cref="WordPieceTokenizer"/> that encoded its training captions.</summary>
    /// <param name="model">The model; the bundle takes ownership.</param>
    /// <param name="tokenizer">A <see cref="WordTokenizer"/> or <see cref="WordPieceTokenizer"/> matching the model's vocabulary and pad id.</param>
    /// <param name="decoding">How <see cref="Caption"/> decodes by default; greedy when null.</param>
    /// <param name="featureExtractor">Which image features the model was trained on, or null when unknown.</param>
    /// <exception cref="ArgumentException">The parts do not fit together; the message says which.</exception>
    public CaptionModelBundle(CaptionModel model, Tokenizer tokenizer, DecodingOptions? decoding = null, FeatureExtractorDescription? featureExtractor = null)
        : this(model, CaptionVocabulary.Create(tokenizer ?? throw new ArgumentNullException(nameof(tokenizer))), decoding, featureExtractor)
    {
    }

    /// <summary>Bundles a trained model with the vocabulary that encoded its training captions.</summary>
    /// <param name="model">The model; the bundle takes ownership.</param>
    /// <param name="vocabulary">
    /// The vocabulary, matching the model's size and pad id: over a <see cref="WordTokenizer"/> or
    /// <see cref="WordPieceTokenizer"/>, or mapped over any other tokenizer.
    /// </param>
    /// <param name="decoding">How <see cref="Caption"/> decodes by default; greedy when null.</param>
    /// <param name="featureExtractor">Which image features the model was trained on, or null when unknown.</param>
    /// <exception cref="ArgumentException">The parts do not fit together; the message says which.</exception>
    public CaptionModelBundle(CaptionModel model, CaptionVocabulary vocabulary, DecodingOptions? decoding = null, FeatureExtractorDescription? featureExtractor = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (!vocabulary.IsMapped && vocabulary.Tokenizer is not (WordTokenizer or WordPieceTokenizer))
            throw new ArgumentException($"a bundle can store a {nameof(WordTokenizer)}, a {nameof(WordPieceTokenizer)} or a mapped vocabulary, not a {vocabulary.Tokenizer.GetType().Name}'s own ids", nameof(vocabulary));
        if (vocabulary.VocabularySize != model.Options.VocabularySize)
            throw new ArgumentException($"the vocabulary has {vocabulary.VocabularySize} ids but the model's has {model.Options.VocabularySize}", nameof(vocabulary));
        if (vocabulary.PadId != model.Options.PadId)
            throw new ArgumentException($"the vocabulary's pad id is {vocabulary.PadId} but the model's is {model.Options.PadId}", nameof(vocabulary));
        if (featureExtractor is not null && featureExtractor.Dimension != model.Options.FeatureDimension)
            throw new ArgumentException($"the feature extractor gives {featureExtractor.Dimension}-float features but the model reads {model.Options.FeatureDimension}", nameof(featureExtractor));
        Model = model;
        Vocabulary = vocabulary;
        Decoding = (decoding ?? DecodingOptions.Greedy).Validate();
        FeatureExtractor = featureExtractor;
    }

    /// <summary>The model.</summary>
    public CaptionModel Model { get; }

    /// <summary>The model's vocabulary: its ids, marks and tokenizer.</summary>
    public CaptionVocabulary Vocabulary { get; }

    /// <summary>The tokenizer of the model's vocabulary (<see cref="CaptionVocabulary.Tokenizer"/>).</summary>
    public Tokenizer Tokenizer => Vocabulary.Tokenizer;

    /// <summary>The default decoding settings.</summary>
    public DecodingOptions Decoding { get; }

    /// <summary>The image features the model reads, when known.</summary>
    public FeatureExtractorDescription? FeatureExtractor { get; }

    /// <summary>The library version that wrote bundles and checkpoints.</summary>
    internal static string LibraryVersion { get; } =
        typeof(CaptionModelBundle).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(CaptionModelBundle).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>A decoder over the model with the vocabulary's start and end marks.</summary>
    public CaptionDecoder CreateDecoder() => new(Model, Vocabulary.StartId, Vocabulary.EndId);

    /// <summary>The caption text of each row of <paramref name="features"/> [N, D], decoded with <paramref name="options"/> or <see cref="Decoding"/>.</summary>
    public IReadOnlyList<string> Caption(Tensor features, DecodingOptions? options = null) =>
        [.. CreateDecoder().Decode(features, options ?? Decoding).Select(caption => Vocabulary.Decode(caption.Tokens))];

    /// <summary>Frees the model.</summary>
    public void Dispose() => Model.Dispose();
}

/// <summary>The image features a captioning model was trained on: how to compute them for a new image.</summary>
/// <param name="Name">The extractor, e.g. "vgg16-fc7" or "resnet50-avgpool".</param>
/// <param name="Dimension">Floats per feature row.</param>
/// <param name="Preprocessing">The image transform applied before the extractor, or null when not recorded.</param>
public sealed record FeatureExtractorDescription(string Name, int Dimension, ImageTransformOptions? Preprocessing = null);
