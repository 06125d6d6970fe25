using System.Globalization;
using ImageCaptioning.Data;
using ImageCaptioning.Features;
using ImageCaptioning.Modeling;
using ImageCaptioning.Persistence;
using ImageCaptioning.Text;
using ImageCaptioning.Vision;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ImageCaptioning.Pipeline;

/// <summary>A validated, immutable pipeline: train it as often as you like (each run returns its own captioner).</summary>
public sealed partial class CaptionPipelineDefinition
{
    private readonly CaptionSource source;
    private readonly IFeatureExtractor? customExtractor;
    private readonly FeatureExtractorOptions extractorOptions;
    private readonly string? featureCache;
    private readonly FeatureStoreOptions featureStoreOptions;
    private readonly TokenizerChoice tokenizerChoice;
    private readonly ILoggerFactory loggerFactory;
    private readonly IProgress<PipelineProgress>? progress;
    private readonly (double Train, double Validation) split;
    private readonly CaptionReaderOptions reading;

    internal CaptionPipelineDefinition(CaptionSource source, FeatureNetwork? network, CnnWeights weights, IFeatureExtractor? customExtractor,
        FeatureExtractorOptions extractorOptions, string? featureCache, FeatureStoreOptions featureStoreOptions, TokenizerChoice tokenizer, ModelChoice model, EncoderChoice? encoder, Device? device,
        ILoggerFactory? loggerFactory, IProgress<PipelineProgress>? progress, int seed, (double Train, double Validation) split, CaptionReaderOptions reading)
    {
        (this.source, Network, Weights, this.customExtractor, this.extractorOptions, this.featureCache, tokenizerChoice) =
            (source, network, weights, customExtractor, extractorOptions, featureCache, tokenizer);
        (Model, Device, this.loggerFactory, this.progress, Seed, this.split) =
            (model, device, loggerFactory ?? NullLoggerFactory.Instance, progress, seed, split);
        this.reading = reading;
        this.featureStoreOptions = featureStoreOptions;
        Encoder = encoder;
    }

    /// <summary>The built-in CNN, or null for a custom extractor.</summary>
    public FeatureNetwork? Network { get; }

    /// <summary>The CNN's weights.</summary>
    public CnnWeights Weights { get; }

    /// <summary>The Show-and-Tell model's shape (from <c>WithModel(m =&gt; ...)</c>), or null when another architecture was chosen.</summary>
    public CaptionModelOptions? ModelOptions => (Model as ModelChoice.ShowAndTell)?.Options;

    internal ModelChoice Model { get; }

    internal EncoderChoice? Encoder { get; }

    /// <summary>The device, or null for CUDA when available, else CPU.</summary>
    public Device? Device { get; }

    /// <summary>The seed of the whole run.</summary>
    public int Seed { get; }

    /// <summary>Reads captions, extracts missing features into the cache, trains, and returns the captioner.</summary>
    public Captioner Train(Func<PipelineTrainingOptions, PipelineTrainingOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        var logger = loggerFactory.CreateLogger("ImageCaptioning.Pipeline");
        var device = Device ?? (torch.cuda.is_available() ? torch.CUDA : torch.CPU);
        torch.manual_seed(Seed);

        var captions = ReadCaptions(logger);
        // The options are judged before the split's sizes: a missing validation split is the error that says what to call.
        var options = (configure?.Invoke(new PipelineTrainingOptions()) ?? new PipelineTrainingOptions()).Validate(captions.Split.Validation.ImageIds.Count > 0);
        AcceptSplit(captions, logger);
        using var features = PrepareFeatures(captions.Corpus, device, logger, cancellationToken);
        var datasets = BuildDatasets(captions, features.Store, options, logger);
        using var trained = TrainModel(datasets, features.Extractor.Dimension, options, device, cancellationToken);
        return Package(captions, features, datasets.Vocabulary, trained, options);
    }

    internal static CaptionCleaningOptions CleaningFor(TokenizerChoice choice) => choice.WordPieceVocabulary is null
        ? CaptionCleaningOptions.Default
        : CaptionCleaningOptions.Default with { StartMark = new WordPieceTokenizerOptions().StartToken, EndMark = new WordPieceTokenizerOptions().EndToken };

    private string[] ImagePaths(IReadOnlyList<string> imageIds)
    {
        var paths = imageIds.Select(id => Path.Combine(source.ImageDirectory, id)).ToArray();
        var missing = paths.Where(p => !File.Exists(p)).Take(5).ToList();
        if (missing.Count > 0)
            throw new FileNotFoundException($"{paths.Count(p => !File.Exists(p))} of {paths.Length} images named by the captions are missing from {source.ImageDirectory}, for example: {string.Join(", ", missing.Select(Path.GetFileName))}", missing[0]);
        return paths;
    }

    // An empty part would end the run only after extraction and training, when it is evaluated or validated.
    private void CheckSplitSizes(int images, CaptionSplit parts, bool random)
    {
        var (train, validation, test) = (parts.Train.ImageIds.Count, parts.Validation.ImageIds.Count, parts.Test.ImageIds.Count);
        if (train > 0 && test > 0 && (!random || split.Validation == 0 || validation > 0)) return;
        var detail = random
            ? string.Create(CultureInfo.InvariantCulture,
                $"a {split.Train * 100:0.#}/{split.Validation * 100:0.#}/{(1 - split.Train - split.Validation) * 100:0.#} % train/validation/test split needs at least {CaptionSplits.MinimumImageCount(split.Train, split.Validation)} images for each part to get one")
            : "the split it defines leaves a part without images";
        throw new InvalidDataException($"{source.Description}: {images} captioned images give {train} train, {validation} validation and {test} test images: {detail}");
    }

    private void Report(PipelineStage stage, long done, long total, string detail) => progress?.Report(new PipelineProgress(stage, done, total, detail));
}
