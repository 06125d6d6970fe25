using ImageCaptioning.Data;
using ImageCaptioning.Features;
using ImageCaptioning.Modeling;
using ImageCaptioning.Persistence;
using ImageCaptioning.Text;
using ImageCaptioning.Training;
using ImageCaptioning.Vision;
using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Pipeline;

// The stages of Train, in the recipe's order; each runs alone on what the one before hands on.
public sealed partial class CaptionPipelineDefinition
{
    /// <summary>Stage 1: reads and cleans the source's captions and splits them by image (the source's split, or one drawn from the seed).</summary>
    internal PipelineCaptions ReadCaptions(ILogger logger)
    {
        Report(PipelineStage.ReadingCaptions, 0, 1, source.Description);
        var (raw, predefined) = source.Read(reading, logger);
        var cleaning = CleaningFor(tokenizerChoice);
        var corpus = new CaptionCleaner(cleaning).Clean(raw, logger).Corpus;
        var parts = predefined is { } lists
            ? CaptionSplits.FromImageLists(corpus, lists.Train, lists.Validation, lists.Test)
            : CaptionSplits.RandomByImage(corpus, split.Train, Seed, split.Validation);
        return new PipelineCaptions(corpus, parts, cleaning, RandomSplit: predefined is null);
    }

    /// <summary>Stage 1, end: refuses a split with an empty part before anything is extracted, and reports the sizes.</summary>
    /// <exception cref="InvalidDataException">A part the run needs has no images.</exception>
    internal void AcceptSplit(PipelineCaptions captions, ILogger logger)
    {
        var (corpus, parts) = (captions.Corpus, captions.Split);
        CheckSplitSizes(corpus.ImageIds.Count, parts, captions.RandomSplit);
        logger.LogInformation("captions: {Images} images ({Train} train, {Validation} validation, {Test} test) from {Source}",
            corpus.ImageIds.Count, parts.Train.ImageIds.Count, parts.Validation.ImageIds.Count, parts.Test.ImageIds.Count, source.Description);
        Report(PipelineStage.ReadingCaptions, 1, 1, $"{corpus.ImageIds.Count} images");
    }

    /// <summary>
    /// Stage 2: extracts the features of the images not yet in the cache (one folder per extractor and weights) and
    /// returns the cache opened for reading, every row verified against its digest.
    /// </summary>
    /// <exception cref="FileNotFoundException">Images named by the captions are missing.</exception>
    internal PipelineFeatures PrepareFeatures(CaptionCorpus corpus, Device device, ILogger logger, CancellationToken cancellationToken)
    {
        var imagePaths = ImagePaths(corpus.ImageIds);
        var ownsExtractor = customExtractor is null;
        var visionLogger = loggerFactory.CreateLogger("ImageCaptioning.Vision");
        var extractor = customExtractor
            ?? (Encoder is { } encoder ? encoder.PixelExtractor(extractorOptions with { Device = device }, visionLogger) : null)
            ?? FeatureNetworks.Create(Network!.Value, Weights, extractorOptions with { Device = device }, visionLogger);
        FeatureStore? store = null;
        try
        {
            var weightsTag = customExtractor is not null ? "custom" : Encoder is not null ? "decoded" : FeatureNetworks.Resolve(Network!.Value, Weights).Tag;
            // One folder per extractor and weights under the cache root: features of different weights never mix.
            var cacheDirectory = Path.Combine(featureCache ?? Path.Combine(source.WorkingDirectory, ".features"), $"{extractor.Name}-{weightsTag}");
            store = FeatureStore.OpenOrCreate(cacheDirectory, extractor, featureStoreOptions);
            var inputs = corpus.ImageIds.Select((id, i) => new ExtractionInput(id, imagePaths[i])).ToList();
            var extraction = FeatureExtraction.Run(extractor, inputs, store,
                new ProgressRelay<ExtractionProgress>(p => Report(PipelineStage.ExtractingFeatures, p.Done, p.Total, p.ToString())),
                logger, cancellationToken);
            logger.LogInformation("features: {Extracted} extracted, {Skipped} already cached in {Directory}", extraction.Extracted, extraction.Skipped, cacheDirectory);
            // Training and evaluation only read: give the writer's lock back so other runs can share the cache.
            store.Dispose();
            store = FeatureStore.Open(cacheDirectory, featureStoreOptions);
            // Damaged rows found now fail the run before training instead of in its middle (reads check them anyway).
            store.Verify();
            return new PipelineFeatures(extractor, ownsExtractor, store);
        }
        catch
        {
            store?.Dispose();
            if (ownsExtractor) extractor.Dispose();
            throw;
        }
    }

    /// <summary>Stage 3: the vocabulary of the training captions, and the training and validation datasets over <paramref name="store"/>.</summary>
    internal PipelineDatasets BuildDatasets(PipelineCaptions captions, IFeatureSource store, PipelineTrainingOptions options, ILogger logger)
    {
        var parts = captions.Split;
        var vocabulary = Vocabulary(parts.Train.Entries().Select(e => e.Caption), captions.Cleaning);
        var features = options.ZeroImageFeatures ? new ZeroFeatureSource(store) : store;
        var datasetOptions = new CaptionDatasetOptions
        {
            Mode = options.Mode == LossMode.Prefix ? CaptionDatasetMode.PrefixExpansion : CaptionDatasetMode.FullSequence,
            BatchSize = options.BatchSize, Seed = Seed, MaxLength = options.MaxCaptionLength,
        };
        var train = CaptionDataset.Create(parts.Train, vocabulary, features, datasetOptions, logger);
        var validation = parts.Validation.ImageIds.Count > 0
            ? CaptionDataset.Create(parts.Validation, vocabulary, features, datasetOptions with { Shuffle = false }, logger)
            : null;
        return new PipelineDatasets(vocabulary, train, validation);
    }

    /// <summary>Stage 4: a new model of <see cref="ModelOptions"/>' shape, trained on the datasets.</summary>
    internal TrainedModel TrainModel(PipelineDatasets datasets, int featureDimension, PipelineTrainingOptions options, Device device, CancellationToken cancellationToken)
    {
        var vocabulary = datasets.Vocabulary;
        var encoder = Encoder?.Create(loggerFactory.CreateLogger("ImageCaptioning.Encoders"));
        CaptionModel model;
        try
        {
            model = Model.Create(vocabulary.VocabularySize, vocabulary.PadId, featureDimension, encoder, device);
        }
        catch
        {
            encoder?.Dispose();
            throw;
        }
        try
        {
            var trainerOptions = new CaptionTrainerOptions
            {
                Epochs = options.Epochs, LearningRate = options.LearningRate, EncoderLearningRate = options.EncoderLearningRate, LearningRateDecay = options.LearningRateDecay, LearningRateDecayInterval = options.LearningRateDecayInterval, GradientClipNorm = options.GradientClipNorm, Mode = options.Mode,
                Patience = options.Patience, CheckpointDirectory = options.CheckpointDirectory, ValidationBleu = options.ValidationBleu,
                Seed = Seed, Device = device, PrefetchDepth = options.PrefetchDepth, SelfCritical = options.SelfCritical,
            };
            using var trainer = new CaptionTrainer(model, trainerOptions, loggerFactory.CreateLogger("ImageCaptioning.Training"),
                new ProgressRelay<TrainingProgress>(p => Report(PipelineStage.Training, p.GlobalStep, (long)p.Epochs * p.StepsPerEpoch,
                    $"epoch {p.Epoch}/{p.Epochs} step {p.Step}/{p.StepsPerEpoch} loss {p.Loss:F3} {p.TokensPerSecond:F0} tokens/s")));
            return new TrainedModel(model, trainer.Train(datasets.Train, datasets.Validation, cancellationToken));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Stage 5: the captioner, which takes over the model, the extractor and the feature store.</summary>
    internal Captioner Package(PipelineCaptions captions, PipelineFeatures features, CaptionVocabulary vocabulary, TrainedModel trained, PipelineTrainingOptions options)
    {
        var extractor = features.Extractor;
        var description = new FeatureExtractorDescription(extractor.Name, extractor.Dimension, extractor.Options.Transform);
        var bundle = new CaptionModelBundle(trained.Release(), vocabulary, DecodingOptions.Greedy with { MaxLength = options.MaxCaptionLength ?? 30 }, description);
        var captioner = new Captioner(bundle, extractor, features.OwnsExtractor, features.Store, captions.Split, source.ImageDirectory, trained.Result,
            new CaptionerSettings(Network, customExtractor is null ? Weights : null, captions.Cleaning, options.ZeroImageFeatures), loggerFactory);
        features.Release();
        return captioner;
    }

    private CaptionVocabulary Vocabulary(IEnumerable<string> trainCaptions, CaptionCleaningOptions cleaning) => tokenizerChoice switch
    {
        { Given: { } given } => CaptionVocabulary.Create(given, trainCaptions,
            new CaptionVocabularyOptions { StartMark = cleaning.StartMark, EndMark = cleaning.EndMark, MinCount = tokenizerChoice.MinCount }),
        { WordPieceVocabulary: { } vocab } => CaptionVocabulary.Create(WordPieceTokenizer.Create(vocab)),
        _ => CaptionVocabulary.Create(WordTokenizer.Train(trainCaptions, new WordTokenizerOptions { MinCount = tokenizerChoice.MinCount })),
    };
}
