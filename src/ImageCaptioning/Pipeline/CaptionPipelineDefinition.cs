using System.Globalization;
using ImageCaptioning.Data;
using ImageCaptioning.Features;
using ImageCaptioning.Modeling;
using ImageCaptioning.Persistence;
using ImageCaptioning.Text;
using ImageCaptioning.Training;
using ImageCaptioning.Vision;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ImageCaptioning.Pipeline;

/// <summary>A validated, immutable pipeline: train it as often as you like (each run returns its own captioner).</summary>
public sealed class CaptionPipelineDefinition
{
    private readonly CaptionSource source;
    private readonly IFeatureExtractor? customExtractor;
    private readonly FeatureExtractorOptions extractorOptions;
    private readonly string? featureCache;
    private readonly TokenizerChoice tokenizerChoice;
    private readonly ILoggerFactory loggerFactory;
    private readonly IProgress<PipelineProgress>? progress;
    private readonly (double Train, double Validation) split;
    private readonly CaptionReaderOptions reading;

    internal CaptionPipelineDefinition(CaptionSource source, FeatureNetwork? network, CnnWeights weights, IFeatureExtractor? customExtractor,
        FeatureExtractorOptions extractorOptions, string? featureCache, TokenizerChoice tokenizer, CaptionModelOptions model, Device? device,
        ILoggerFactory? loggerFactory, IProgress<PipelineProgress>? progress, int seed, (double Train, double Validation) split, CaptionReaderOptions reading)
    {
        (this.source, Network, Weights, this.customExtractor, this.extractorOptions, this.featureCache, tokenizerChoice) =
            (source, network, weights, customExtractor, extractorOptions, featureCache, tokenizer);
        (ModelOptions, Device, this.loggerFactory, this.progress, Seed, this.split) =
            (model, device, loggerFactory ?? NullLoggerFactory.Instance, progress, seed, split);
        this.reading = reading;
    }

    /// <summary>The built-in CNN, or null for a custom extractor.</summary>
    public FeatureNetwork? Network { get; }

    /// <summary>The CNN's weights.</summary>
    public CnnWeights Weights { get; }

    /// <summary>The model shape before the pipeline fills in vocabulary size, feature dimension and pad id.</summary>
    public CaptionModelOptions ModelOptions { get; }

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

        Report(PipelineStage.ReadingCaptions, 0, 1, source.Description);
        var (raw, predefined) = source.Read(reading, logger);
        var cleaning = CleaningFor(tokenizerChoice);
        var corpus = new CaptionCleaner(cleaning).Clean(raw, logger).Corpus;
        var captionSplit = predefined is { } lists
            ? CaptionSplits.FromImageLists(corpus, lists.Train, lists.Validation, lists.Test)
            : CaptionSplits.RandomByImage(corpus, split.Train, Seed, split.Validation);
        var options = (configure?.Invoke(new PipelineTrainingOptions()) ?? new PipelineTrainingOptions()).Validate(captionSplit.Validation.ImageIds.Count > 0);
        CheckSplitSizes(corpus.ImageIds.Count, captionSplit, random: predefined is null);
        logger.LogInformation("captions: {Images} images ({Train} train, {Validation} validation, {Test} test) from {Source}",
            corpus.ImageIds.Count, captionSplit.Train.ImageIds.Count, captionSplit.Validation.ImageIds.Count, captionSplit.Test.ImageIds.Count, source.Description);
        Report(PipelineStage.ReadingCaptions, 1, 1, $"{corpus.ImageIds.Count} images");

        var imagePaths = ImagePaths(corpus.ImageIds);
        var ownsExtractor = customExtractor is null;
        var extractor = customExtractor ?? FeatureNetworks.Create(Network!.Value, Weights, extractorOptions with { Device = device },
            loggerFactory.CreateLogger("ImageCaptioning.Vision"));
        FeatureStore? store = null;
        CaptionModel? model = null;
        try
        {
            var weightsTag = customExtractor is null ? FeatureNetworks.Resolve(Network!.Value, Weights).Tag : "custom";
            // One folder per extractor and weights under the cache root: features of different weights never mix.
            var cacheDirectory = Path.Combine(featureCache ?? Path.Combine(source.WorkingDirectory, ".features"), $"{extractor.Name}-{weightsTag}");
            store = FeatureStore.OpenOrCreate(cacheDirectory, extractor);
            var inputs = corpus.ImageIds.Select((id, i) => new ExtractionInput(id, imagePaths[i])).ToList();
            var extraction = FeatureExtraction.Run(extractor, inputs, store,
                new ProgressRelay<ExtractionProgress>(p => Report(PipelineStage.ExtractingFeatures, p.Done, p.Total, p.ToString())),
                logger, cancellationToken);
            logger.LogInformation("features: {Extracted} extracted, {Skipped} already cached in {Directory}", extraction.Extracted, extraction.Skipped, cacheDirectory);
            // Training and evaluation only read: give the writer's lock back so other runs can share the cache.
            store.Dispose();
            store = FeatureStore.Open(cacheDirectory);

            var trainCaptions = captionSplit.Train.Entries().Select(e => e.Caption);
            var vocabulary = tokenizerChoice switch
            {
                { Given: { } given } => CaptionVocabulary.Create(given, trainCaptions,
                    new CaptionVocabularyOptions { StartMark = cleaning.StartMark, EndMark = cleaning.EndMark, MinCount = tokenizerChoice.MinCount }),
                { WordPieceVocabulary: { } vocab } => CaptionVocabulary.Create(WordPieceTokenizer.Create(vocab)),
                _ => CaptionVocabulary.Create(WordTokenizer.Train(trainCaptions, new WordTokenizerOptions { MinCount = tokenizerChoice.MinCount })),
            };
            IFeatureSource features = options.ZeroImageFeatures ? new ZeroFeatureSource(store) : store;
            var datasetOptions = new CaptionDatasetOptions
            {
                Mode = options.Mode == LossMode.Prefix ? CaptionDatasetMode.PrefixExpansion : CaptionDatasetMode.FullSequence,
                BatchSize = options.BatchSize, Seed = Seed, MaxLength = options.MaxCaptionLength,
            };
            var train = CaptionDataset.Create(captionSplit.Train, vocabulary, features, datasetOptions, logger);
            var validation = captionSplit.Validation.ImageIds.Count > 0
                ? CaptionDataset.Create(captionSplit.Validation, vocabulary, features, datasetOptions with { Shuffle = false }, logger)
                : null;

            model = CaptionModel.Create(ModelOptions with
            {
                VocabularySize = vocabulary.VocabularySize, FeatureDimension = extractor.Dimension, PadId = vocabulary.PadId,
            }, device);
            var trainerOptions = new CaptionTrainerOptions
            {
                Epochs = options.Epochs, LearningRate = options.LearningRate, GradientClipNorm = options.GradientClipNorm, Mode = options.Mode,
                Patience = options.Patience, CheckpointDirectory = options.CheckpointDirectory, ValidationBleu = options.ValidationBleu,
                Seed = Seed, Device = device,
            };
            TrainingResult result;
            using (var trainer = new CaptionTrainer(model, trainerOptions, loggerFactory.CreateLogger("ImageCaptioning.Training"),
                       new ProgressRelay<TrainingProgress>(p => Report(PipelineStage.Training, p.GlobalStep, (long)p.Epochs * p.StepsPerEpoch,
                           $"epoch {p.Epoch}/{p.Epochs} step {p.Step}/{p.StepsPerEpoch} loss {p.Loss:F3} {p.TokensPerSecond:F0} tokens/s")))
                   )
            {
                result = trainer.Train(train, validation, cancellationToken);
            }

            var description = new FeatureExtractorDescription(extractor.Name, extractor.Dimension, extractor.Options.Transform);
            var bundle = new CaptionModelBundle(model, vocabulary, DecodingOptions.Greedy with { MaxLength = options.MaxCaptionLength ?? 30 }, description);
            model = null;
            var captioner = new Captioner(bundle, extractor, ownsExtractor, store, captionSplit, source.ImageDirectory, result,
                new CaptionerSettings(Network, customExtractor is null ? Weights : null, cleaning, options.ZeroImageFeatures), loggerFactory);
            store = null;
            return captioner;
        }
        catch
        {
            model?.Dispose();
            store?.Dispose();
            if (ownsExtractor) extractor.Dispose();
            throw;
        }
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
