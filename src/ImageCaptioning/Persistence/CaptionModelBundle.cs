using ImageCaptioning.Modeling;
using ImageCaptioning.Text;
using Tokenizer = Microsoft.ML.Tokenizers.Tokenizer;

namespace ImageCaptioning.Persistence;

/// <summary>
/// Everything needed to caption a new image: the model, its tokenizer, default decoding settings and a description
/// of the image features the model reads. <see cref="Save"/> writes a folder of <c>config.json</c>,
/// <c>model.safetensors</c> and <c>vocab.txt</c>; <see cref="Load"/> reads and validates one. The bundle owns its
/// model: disposing the bundle disposes the model. A <see cref="WordTokenizer"/> or <see cref="WordPieceTokenizer"/> is
/// saved whole; a vocabulary mapped over another Microsoft.ML.Tokenizers tokenizer saves its id map, and loading it
/// takes that tokenizer again.
/// </summary>
public sealed class CaptionModelBundle : IDisposable
{
    /// <summary>The configuration file of a bundle folder: the model, tokenizer, decoding, features and the files' SHA-256.</summary>
    public const string ConfigFileName = CaptionerFolder.ConfigFileName;

    /// <summary>The weights file of a bundle folder (safetensors, state_dict key names).</summary>
    public const string ModelFileName = CaptionerFolder.ModelFileName;

    /// <summary>
    /// The vocabulary of a bundle folder, line i for id i: the token, or for a mapped vocabulary the tokenizer's id
    /// (after the four special ids' names).
    /// </summary>
    public const string VocabularyFileName = CaptionerFolder.VocabularyFileName;

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
        if (!TokenizerConfig.CanStore(vocabulary))
            throw new ArgumentException($"a bundle can store a {nameof(WordTokenizer)}, a {nameof(WordPieceTokenizer)} or a mapped vocabulary, not a {vocabulary.Tokenizer.GetType().Name}'s own ids", nameof(vocabulary));
        if (vocabulary.VocabularySize != model.VocabularySize)
            throw new ArgumentException($"the vocabulary has {vocabulary.VocabularySize} ids but the model's has {model.VocabularySize}", nameof(vocabulary));
        if (vocabulary.PadId != model.PadId)
            throw new ArgumentException($"the vocabulary's pad id is {vocabulary.PadId} but the model's is {model.PadId}", nameof(vocabulary));
        if (featureExtractor is not null && featureExtractor.Dimension != model.InputDimension)
            throw new ArgumentException($"the feature extractor gives {featureExtractor.Dimension}-float features but the model reads {model.InputDimension}", nameof(featureExtractor));
        Model = model;
        Vocabulary = vocabulary;
        Decoding = decoding ?? DecodingOptions.Greedy;
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

    /// <summary>
    /// Writes the bundle to <paramref name="folder"/>: the files go into a temporary sibling folder which then
    /// replaces <paramref name="folder"/>, so a reader never sees a mix of old and new files. An existing folder is
    /// replaced only when it is empty or a bundle.
    /// </summary>
    /// <exception cref="IOException">The folder holds something other than a bundle, or a write failed.</exception>
    public void Save(string folder) => CaptionerFolder.Save(folder, this, settings: null);

    /// <summary>
    /// Reads a bundle written by <see cref="Save"/> or <c>Captioner.Save</c> (whose captioner settings it skips), with
    /// the model on <paramref name="device"/> (the CPU by default) in eval mode.
    /// </summary>
    /// <param name="folder">The bundle folder.</param>
    /// <param name="device">Where the model goes; the CPU when null.</param>
    /// <param name="tokenizer">
    /// For a bundle whose vocabulary is mapped over a Microsoft.ML.Tokenizers tokenizer, that tokenizer (of the type
    /// the bundle names; a tokenizer is not saved). Not needed, and ignored, for a <see cref="WordTokenizer"/> or
    /// <see cref="WordPieceTokenizer"/> bundle.
    /// </param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="ArgumentException">The bundle needs <paramref name="tokenizer"/>, or one of its type.</exception>
    /// <exception cref="FileNotFoundException">A bundle file is missing; the message names it.</exception>
    /// <param name="integrity">
    /// What the folder must prove: by default (<see cref="FolderIntegrity.Verified"/>) every file and setting matches
    /// the digests config.json records; <see cref="FolderIntegrity.AllowEdited"/> accepts a hand-edited config.json
    /// and folders of earlier formats.
    /// </param>
    /// <exception cref="InvalidDataException">
    /// A file is malformed, differs from the SHA-256 the configuration records (or, when verified, the configuration
    /// records none), or the files disagree; the message names the file and key.
    /// </exception>
    /// <exception cref="StateDictMismatchException">The weights' keys or shapes do not fit the configured model; the message names the file and keys.</exception>
    public static CaptionModelBundle Load(string folder, Device? device = null, Tokenizer? tokenizer = null, FolderIntegrity integrity = FolderIntegrity.Verified) =>
        CaptionerFolder.LoadBundle(folder, device, tokenizer, integrity);

    /// <summary>A decoder over the model with the vocabulary's start and end marks.</summary>
    public CaptionDecoder CreateDecoder() => new(Model, Vocabulary.StartId, Vocabulary.EndId);

    /// <summary>The caption text of each row of <paramref name="features"/> [N, D], decoded with <paramref name="options"/> or <see cref="Decoding"/>.</summary>
    public IReadOnlyList<string> Caption(Tensor features, DecodingOptions? options = null) =>
        [.. CreateDecoder().Decode(features, options ?? Decoding).Select(caption => Vocabulary.Decode(caption.Tokens))];

    /// <summary>Frees the model.</summary>
    public void Dispose() => Model.Dispose();
}
