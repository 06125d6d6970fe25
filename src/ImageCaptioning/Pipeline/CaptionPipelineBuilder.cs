using ImageCaptioning.Encoders;
using ImageCaptioning.Features;
using ImageCaptioning.Modeling;
using ImageCaptioning.Text;
using ImageCaptioning.Vision;
using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Pipeline;

/// <summary>
/// Collects what a captioning run needs, one capability per method; everything is validated at
/// <see cref="Build"/> (or <see cref="Train"/>) with messages that say what to call. A builder is used once.
/// </summary>
public sealed partial class CaptionPipelineBuilder
{
    private readonly List<CaptionSource> sources = [];
    private readonly List<string> featureChoices = [];
    private FeatureNetwork? network;
    private CnnWeights weights = CnnWeights.HubCache;
    private IFeatureExtractor? customExtractor;
    private FeatureExtractorOptions extractorOptions = new();
    private string? featureCache;
    private FeatureStoreOptions featureStoreOptions = new();
    private TokenizerChoice tokenizer = new(null, 1);
    private Func<CaptionModelOptions, CaptionModelOptions> configureModel = o => o;
    private readonly List<ModelChoice> gridModels = [];
    private EncoderChoice? encoder;
    private Device? device;
    private ILoggerFactory? loggerFactory;
    private IProgress<PipelineProgress>? progress;
    private int seed;
    private (double Train, double Validation)? splitFractions;
    private CaptionReaderOptions reading = CaptionReaderOptions.Default;
    private bool frozen;

    internal CaptionPipelineBuilder()
    {
    }

    /// <summary>Image features from VGG16 fc7 (4096-d), the recipe's choice. Default weights: the torch hub cache.</summary>
    public CaptionPipelineBuilder WithVgg16(CnnWeights? weights = null) => WithNetwork(FeatureNetwork.Vgg16, weights, nameof(WithVgg16));

    /// <summary>Image features from VGG16 fc7 with the weights file at <paramref name="weightsPath"/> (.pth or .safetensors).</summary>
    public CaptionPipelineBuilder WithVgg16(string weightsPath) => WithVgg16(CnnWeights.FromFile(weightsPath));

    /// <summary>Image features from ResNet-50's pooled output (2048-d). Default weights: the torch hub cache.</summary>
    public CaptionPipelineBuilder WithResNet50(CnnWeights? weights = null) => WithNetwork(FeatureNetwork.ResNet50, weights, nameof(WithResNet50));

    /// <summary>Image features from ResNet-50 with the weights file at <paramref name="weightsPath"/>.</summary>
    public CaptionPipelineBuilder WithResNet50(string weightsPath) => WithResNet50(CnnWeights.FromFile(weightsPath));

    /// <summary>Image features from your own extractor (the pipeline does not dispose it).</summary>
    public CaptionPipelineBuilder WithFeatureExtractor(IFeatureExtractor extractor)
    {
        ArgumentNullException.ThrowIfNull(extractor);
        Mutate();
        featureChoices.Add(nameof(WithFeatureExtractor));
        customExtractor = extractor;
        return this;
    }

    /// <summary>Preprocessing, batch size and decode threads of the built-in extractors.</summary>
    public CaptionPipelineBuilder WithFeatureExtractorOptions(Func<FeatureExtractorOptions, FeatureExtractorOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Mutate();
        extractorOptions = configure(extractorOptions) ?? throw new ArgumentException("the configure function returned null", nameof(configure));
        return this;
    }

    /// <summary>
    /// The root folder of the on-disk feature stores, one subfolder per extractor and weights. A second run with the
    /// same extractor and weights extracts nothing. Default: a <c>.features</c> folder beside the captions.
    /// <paramref name="options"/> set how the stores are mapped and checked (for example
    /// <see cref="FeatureStoreIntegrity.AllowLegacy"/> to take over a cache written by an older version); before training
    /// the pipeline verifies every row of the store it reads (<see cref="FeatureStore.Verify"/>).
    /// </summary>
    public CaptionPipelineBuilder WithFeatureCache(string directory, FeatureStoreOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Mutate();
        featureCache = Path.GetFullPath(directory);
        featureStoreOptions = options ?? new FeatureStoreOptions();
        return this;
    }

    /// <summary>Captions and images of a Flickr8k folder (Kaggle's or the original layout; the official split when present).</summary>
    public CaptionPipelineBuilder WithFlickr8k(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        return AddSource(new Flickr8kSource(Path.GetFullPath(root)));
    }

    /// <summary>Captions from a COCO captions JSON, with the folder of its images.</summary>
    public CaptionPipelineBuilder WithCoco(string captionsJson, string imageDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(captionsJson);
        ArgumentException.ThrowIfNullOrWhiteSpace(imageDirectory);
        return AddSource(new CocoSource(Path.GetFullPath(captionsJson), Path.GetFullPath(imageDirectory)));
    }

    /// <summary>Captions and train/val/test split from a Karpathy split JSON, with the folder of its images.</summary>
    public CaptionPipelineBuilder WithKarpathySplits(string splitsJson, string imageDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(splitsJson);
        ArgumentException.ThrowIfNullOrWhiteSpace(imageDirectory);
        return AddSource(new KarpathySource(Path.GetFullPath(splitsJson), Path.GetFullPath(imageDirectory)));
    }

    /// <summary>Captions you already hold; image ids are file names under <paramref name="imageDirectory"/>.</summary>
    public CaptionPipelineBuilder WithCaptions(CaptionCorpus captions, string imageDirectory)
    {
        ArgumentNullException.ThrowIfNull(captions);
        ArgumentException.ThrowIfNullOrWhiteSpace(imageDirectory);
        return AddSource(new InMemorySource(captions, Path.GetFullPath(imageDirectory)));
    }

    /// <summary>
    /// How caption files are read: <c>WithCaptionReaderOptions(o =&gt; o with { InvalidText = InvalidTextHandling.Replace })</c>
    /// replaces bytes that are not valid UTF-8 (counted in a logged warning) instead of stopping with the file, line
    /// and byte offset.
    /// </summary>
    public CaptionPipelineBuilder WithCaptionReaderOptions(Func<CaptionReaderOptions, CaptionReaderOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Mutate();
        reading = configure(reading) ?? throw new ArgumentException("the configure function returned null", nameof(configure));
        return this;
    }

    /// <summary>A word vocabulary built from the training captions, keeping words seen at least <paramref name="minCount"/> times (the default).</summary>
    public CaptionPipelineBuilder WithWordTokenizer(int minCount = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minCount, 1);
        Mutate();
        tokenizer = new TokenizerChoice(null, minCount);
        return this;
    }

    /// <summary>BERT WordPiece tokens from a vocab.txt (e.g. bert-base-uncased's), with &lt;SOS&gt;/&lt;EOS&gt; added.</summary>
    public CaptionPipelineBuilder WithWordPiece(string vocabPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(vocabPath);
        Mutate();
        tokenizer = new TokenizerChoice(Path.GetFullPath(vocabPath), 1);
        return this;
    }

    /// <summary>
    /// Any Microsoft.ML.Tokenizers tokenizer (BertTokenizer, WordPieceTokenizer, TiktokenTokenizer,
    /// SentencePieceTokenizer, ...): the model's vocabulary is the tokenizer ids of the training captions seen at least
    /// <paramref name="minCount"/> times, with the caption marks added by the library (see <see cref="CaptionVocabulary"/>).
    /// For a BERT vocab.txt, <see cref="WithWordPiece"/> is HuggingFace-exact where BertTokenizer is not.
    /// </summary>
    public CaptionPipelineBuilder WithTokenizer(Microsoft.ML.Tokenizers.Tokenizer tokenizer, int minCount = 1)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentOutOfRangeException.ThrowIfLessThan(minCount, 1);
        Mutate();
        this.tokenizer = new TokenizerChoice(null, minCount, tokenizer);
        return this;
    }

    /// <summary>Model shape: <c>WithModel(m =&gt; m with { HiddenSize = 512, Architecture = CaptionArchitecture.Merge })</c>.
    /// Vocabulary size, feature dimension and pad id are filled in by the pipeline.</summary>
    public CaptionPipelineBuilder WithModel(Func<CaptionModelOptions, CaptionModelOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Mutate();
        var previous = configureModel;
        configureModel = o => configure(previous(o));
        return this;
    }

    /// <summary>
    /// Trains the soft-attention decoder of Show, Attend and Tell over grid features (VGG16 conv5_3, ResNet-50's last
    /// block, or a trainable encoder's grid): <c>WithModel(new SoftAttentionOptions { HiddenSize = 256 })</c>. The
    /// vocabulary size, pad id and grid (cells and channels) are filled in by the pipeline; with cached features,
    /// <see cref="SoftAttentionOptions.FeatureDimension"/> must be the extractor's channels per cell.
    /// </summary>
    public CaptionPipelineBuilder WithModel(SoftAttentionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Mutate();
        gridModels.Add(new ModelChoice.SoftAttention(options));
        return this;
    }

    /// <summary>
    /// Trains the transformer decoder over grid features: <c>WithModel(new TransformerCaptionOptions { Layers = 2 })</c>.
    /// The vocabulary size, pad id and grid are filled in by the pipeline; with cached features,
    /// <see cref="TransformerCaptionOptions.FeatureDimension"/> must be the extractor's channels per cell.
    /// </summary>
    public CaptionPipelineBuilder WithModel(TransformerCaptionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Mutate();
        gridModels.Add(new ModelChoice.Transformer(options));
        return this;
    }

    /// <summary>
    /// Trains a small CNN from scratch inside the model, for images without pretrained weights:
    /// <c>WithEncoder(new SmallCnnEncoderOptions { InputSize = 64 })</c>. The images are decoded and resized to the
    /// encoder's input once (their pixels are cached, as features would be) and the CNN computes their grid in every
    /// training step. Needs a grid model (<c>WithModel(SoftAttentionOptions)</c> or <c>WithModel(TransformerCaptionOptions)</c>)
    /// and replaces the feature extractor (do not call WithVgg16, WithResNet50 or WithFeatureExtractor).
    /// </summary>
    public CaptionPipelineBuilder WithEncoder(SmallCnnEncoderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Mutate();
        featureChoices.Add(nameof(WithEncoder));
        encoder = new EncoderChoice.SmallCnn(options.Validate());
        return this;
    }

    /// <summary>
    /// Fine-tunes the last <see cref="PretrainedCnnEncoderOptions.TrainableBlocks"/> blocks of ResNet-50 or VGG16
    /// inside the model, with their own learning rate (<see cref="PipelineTrainingOptions.EncoderLearningRate"/>), as
    /// sgrvinod's tutorial does. The rest is as for <see cref="WithEncoder(SmallCnnEncoderOptions)"/>.
    /// </summary>
    public CaptionPipelineBuilder WithEncoder(PretrainedCnnEncoderOptions options, CnnWeights? weights = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Mutate();
        featureChoices.Add(nameof(WithEncoder));
        encoder = new EncoderChoice.Pretrained(options.Validate(), weights ?? CnnWeights.HubCache);
        return this;
    }

    /// <summary>Runs extraction, training and captioning on <paramref name="target"/> (default: CUDA when available, else CPU).</summary>
    public CaptionPipelineBuilder WithDevice(Device target)
    {
        Mutate();
        device = target;
        return this;
    }

    /// <summary>Logs every step (counts, rates, losses, warnings) through <paramref name="factory"/>.</summary>
    public CaptionPipelineBuilder WithLogging(ILoggerFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        Mutate();
        loggerFactory = factory;
        return this;
    }

    /// <summary>Reports the progress of every long step.</summary>
    public CaptionPipelineBuilder WithProgress(IProgress<PipelineProgress> reporter)
    {
        ArgumentNullException.ThrowIfNull(reporter);
        Mutate();
        progress = reporter;
        return this;
    }

    /// <summary>Seeds the split, shuffling, initialisation and dropout: the same seed gives the same run on the CPU.</summary>
    public CaptionPipelineBuilder WithSeed(int value)
    {
        Mutate();
        seed = value;
        return this;
    }

    /// <summary>
    /// Seeded random split by image for sources without their own: <paramref name="trainFraction"/> for training,
    /// <paramref name="validationFraction"/> for validation, the rest for testing. Default: the recipe's 80/0/20.
    /// </summary>
    public CaptionPipelineBuilder WithSplit(double trainFraction = 0.8, double validationFraction = 0)
    {
        Mutate();
        splitFractions = (trainFraction, validationFraction);
        return this;
    }

    /// <summary>Validates everything and freezes the builder.</summary>
    public CaptionPipelineDefinition Build()
    {
        Mutate();
        frozen = true;
        if (sources.Count == 0)
            throw new InvalidOperationException("no caption source: call WithFlickr8k(path), WithCoco(captionsJson, images), WithKarpathySplits(splitsJson, images) or WithCaptions(corpus, images)");
        if (sources.Count > 1)
            throw new InvalidOperationException($"more than one caption source ({string.Join(", ", sources.Select(s => s.Description))}): call only one of WithFlickr8k, WithCoco, WithKarpathySplits or WithCaptions");
        if (featureChoices.Count == 0)
            throw new InvalidOperationException("no feature extractor: call WithVgg16(), WithResNet50(), WithFeatureExtractor(extractor) or WithEncoder(...)");
        if (featureChoices.Count > 1)
            throw new InvalidOperationException($"more than one feature extractor ({string.Join(", ", featureChoices)}): call only one of them");
        var (train, validation) = splitFractions ?? (0.8, 0);
        if (!(train > 0) || validation < 0 || train + validation >= 1)
            throw new ArgumentOutOfRangeException(nameof(WithSplit), (train, validation), "WithSplit needs trainFraction > 0, validationFraction >= 0 and room left for a test split (train + validation < 1)");
        if (splitFractions is not null && sources[0] is KarpathySource)
            throw new InvalidOperationException("WithSplit does not apply to WithKarpathySplits, which carries its own split");
        sources[0].Validate();
        if (tokenizer.WordPieceVocabulary is { } vocab && !File.Exists(vocab))
            throw new FileNotFoundException($"the WordPiece vocabulary '{vocab}' passed to WithWordPiece does not exist", vocab);
        if (network is not null && weights.Kind == CnnWeightsKind.File && !File.Exists(weights.Path))
            throw new FileNotFoundException($"the weights file '{weights.Path}' passed to With{network} does not exist", weights.Path);
        var modelOptions = configureModel(new CaptionModelOptions()) ?? throw new InvalidOperationException("the WithModel function returned null");
        if (gridModels.Count > 1)
            throw new InvalidOperationException($"more than one architecture ({string.Join(", ", gridModels.Select(m => m.Name))}): call WithModel with one kind of options");
        ModelChoice model = gridModels.Count == 1 ? gridModels[0] : new ModelChoice.ShowAndTell(modelOptions);
        if (encoder is not null && model is ModelChoice.ShowAndTell)
            throw new InvalidOperationException("WithEncoder needs a grid model: call WithModel(new SoftAttentionOptions { ... }) or WithModel(new TransformerCaptionOptions { ... }); the Show-and-Tell models read cached feature vectors");
        extractorOptions = extractorOptions with { Device = extractorOptions.Device ?? device };
        return new CaptionPipelineDefinition(sources[0], network, weights, customExtractor, extractorOptions, featureCache, featureStoreOptions, tokenizer,
            model, encoder, device, loggerFactory, progress, seed, (train, validation), reading);
    }

    /// <summary>Builds and trains: <c>Train(o =&gt; o with { Epochs = 20 })</c>.</summary>
    public Captioner Train(Func<PipelineTrainingOptions, PipelineTrainingOptions>? configure = null, CancellationToken cancellationToken = default) =>
        Build().Train(configure, cancellationToken);

    private CaptionPipelineBuilder WithNetwork(FeatureNetwork choice, CnnWeights? chosenWeights, string method)
    {
        Mutate();
        featureChoices.Add(method);
        network = choice;
        weights = chosenWeights ?? CnnWeights.HubCache;
        return this;
    }

    private CaptionPipelineBuilder AddSource(CaptionSource source)
    {
        Mutate();
        sources.Add(source);
        return this;
    }

    private void Mutate()
    {
        if (frozen)
            throw new InvalidOperationException("this builder has already built a pipeline and is frozen: start a new one with CaptionPipeline.Create()");
    }
}

/// <summary>The tokenizer to use: one given, WordPiece from a vocabulary file, else a word vocabulary with a minimum count.</summary>
internal sealed record TokenizerChoice(string? WordPieceVocabulary, int MinCount, Microsoft.ML.Tokenizers.Tokenizer? Given = null);
