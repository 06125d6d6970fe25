using ImageCaptioning.Data;
using ImageCaptioning.Pipeline;
using ImageCaptioning.Synthetic;
using ImageCaptioning.Testing;
using ImageCaptioning.Vision;
using Microsoft.Extensions.Logging.Abstractions;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Pipeline;

/// <summary>Each stage of <see cref="CaptionPipelineDefinition.Train"/> run alone, on what the stage before would hand on.</summary>
[TestFixture]
public sealed class PipelineStageTests
{
    private static readonly string[] Subjects = ["dog", "cat", "horse", "child", "bird", "boat", "train", "woman", "ball", "tree", "kite", "bike"];
    private TempDirectory dir = null!;

    [SetUp]
    public void SetUp() => dir = new TempDirectory();

    [TearDown]
    public void TearDown() => dir.Dispose();

    // A Kaggle-layout Flickr8k folder: two captions per image, an empty image folder (the caption stage reads no image).
    private string CaptionFolder(int images)
    {
        var root = dir.File($"flickr-{images}");
        Directory.CreateDirectory(Path.Combine(root, "Images"));
        var lines = Enumerable.Range(0, images).SelectMany(i => new[]
        {
            $"img{i}.jpg,A {Subjects[i]} runs on the grass.",
            $"img{i}.jpg,The {Subjects[i]} is near a river!",
        });
        File.WriteAllLines(Path.Combine(root, "captions.txt"), ["image,caption", .. lines]);
        return root;
    }

    private static CaptionPipelineDefinition Definition(string root, double train = 0.6, double validation = 0.2) =>
        CaptionPipeline.Create().WithVgg16(CnnWeights.Random(1)).WithFlickr8k(root).WithSplit(train, validation).WithSeed(4)
            .WithModel(m => m with { EmbeddingSize = 8, HiddenSize = 8 }).WithDevice(torch.CPU).Build();

    private static InMemoryFeatureSource Features(PipelineCaptions captions, int dimension)
    {
        var ids = captions.Corpus.ImageIds;
        var random = new Random(7);
        return new InMemoryFeatureSource(ids, dimension, Enumerable.Range(0, ids.Count * dimension).Select(_ => (float)random.NextDouble()).ToArray());
    }

    private static HashSet<string> ImagesIn(ICaptionDataset dataset)
    {
        var images = new HashSet<string>();
        for (var index = 0; index < dataset.Count; index++)
        {
            using var batch = dataset.BatchOf(0, index);
            images.UnionWith(batch.ImageIds);
        }
        return images;
    }

    [Test]
    public void TheCaptionStageReadsCleansAndSplitsACaptionFile()
    {
        var pipeline = Definition(CaptionFolder(10));

        var captions = pipeline.ReadCaptions(NullLogger.Instance);

        Assert.That(captions.Corpus.ImageIds, Is.EquivalentTo(Enumerable.Range(0, 10).Select(i => $"img{i}.jpg")));
        Assert.That(captions.Corpus.Entries().Select(e => e.Caption), Has.Member("startseq dog runs on the grass endseq"), "cleaned and marked");
        var expected = CaptionSplits.RandomByImage(captions.Corpus, 0.6, 4, 0.2);
        Assert.That(captions.Split.Train.ImageIds, Is.EqualTo(expected.Train.ImageIds), "the split drawn from the run's seed");
        Assert.That(captions.Split.Validation.ImageIds, Is.EqualTo(expected.Validation.ImageIds));
        Assert.That(captions.Split.Test.ImageIds, Is.EqualTo(expected.Test.ImageIds));
        Assert.That(captions.Split.Train.ImageIds.Concat(captions.Split.Validation.ImageIds).Concat(captions.Split.Test.ImageIds),
            Is.EquivalentTo(captions.Corpus.ImageIds), "every image in exactly one part");
        Assert.That(captions.RandomSplit, Is.True);
        Assert.DoesNotThrow(() => pipeline.AcceptSplit(captions, NullLogger.Instance));
    }

    [Test]
    public void TheCaptionStageRefusesASplitThatLeavesAPartEmpty()
    {
        var pipeline = Definition(CaptionFolder(2));
        var captions = pipeline.ReadCaptions(NullLogger.Instance);

        var error = Assert.Throws<InvalidDataException>(() => pipeline.AcceptSplit(captions, NullLogger.Instance));

        Assert.That(error!.Message, Does.Contain("2 captioned images give"));
    }

    [Test]
    public void TheFeatureStageExtractsOnceAndThenReusesTheCache()
    {
        var data = new SyntheticCaptionedImages(new SyntheticDatasetOptions { ImageCount = 6, ImageSize = 32, Seed = 3 }).Generate(dir.File("data"));
        var progress = new List<PipelineProgress>();
        var pipeline = CaptionPipeline.Create()
            .WithResNet50(CnnWeights.Random(5))
            .WithFeatureExtractorOptions(o => o with { Transform = ImageTransformOptions.Recipe224 with { Resize = ImageResize.To(32, 32) }, BatchSize = 4 })
            .WithFlickr8k(data.Directory).WithFeatureCache(dir.File("cache")).WithProgress(new SynchronousProgress(progress)).Build();
        var captions = pipeline.ReadCaptions(NullLogger.Instance);

        float[] Rows(PipelineFeatures features)
        {
            var rows = new float[captions.Corpus.ImageIds.Count * features.Store.Dimension];
            for (var i = 0; i < captions.Corpus.ImageIds.Count; i++)
                features.Store.Read(captions.Corpus.ImageIds[i], rows.AsSpan(i * features.Store.Dimension, features.Store.Dimension));
            return rows;
        }

        float[] extracted;
        using (var features = pipeline.PrepareFeatures(captions.Corpus, torch.CPU, NullLogger.Instance, CancellationToken.None))
            extracted = Rows(features);
        Assert.That(progress.Where(p => p.Stage == PipelineStage.ExtractingFeatures).Max(p => p.Done), Is.EqualTo(6), "the first run extracts every image");

        progress.Clear();
        using (var features = pipeline.PrepareFeatures(captions.Corpus, torch.CPU, NullLogger.Instance, CancellationToken.None))
            Assert.That(Rows(features), Is.EqualTo(extracted), "the cached rows");
        Assert.That(progress.Where(p => p.Stage == PipelineStage.ExtractingFeatures).Select(p => p.Done), Is.All.EqualTo(0), "the second run extracts nothing");
    }

    [Test]
    public void TheDatasetStageTrainsOnTheTrainPartAndValidatesOnTheValidationPartInAFixedOrder()
    {
        var pipeline = Definition(CaptionFolder(10));
        var captions = pipeline.ReadCaptions(NullLogger.Instance);

        var datasets = pipeline.BuildDatasets(captions, Features(captions, 4), new PipelineTrainingOptions { BatchSize = 3 }, NullLogger.Instance);

        Assert.That(ImagesIn(datasets.Train), Is.EquivalentTo(captions.Split.Train.ImageIds));
        Assert.That(ImagesIn(datasets.Validation!), Is.EquivalentTo(captions.Split.Validation.ImageIds));
        Assert.That((datasets.Train.Options.Shuffle, datasets.Train.Options.Seed, datasets.Train.Options.BatchSize), Is.EqualTo((true, 4, 3)));
        Assert.That(datasets.Validation!.Options.Shuffle, Is.False);
        Assert.That(datasets.Train.Vocabulary, Is.SameAs(datasets.Vocabulary));
        Assert.That(datasets.Validation.Vocabulary, Is.SameAs(datasets.Vocabulary), "validation is encoded with the training vocabulary");
    }

    [Test]
    public void TheDatasetStageMakesNoValidationDatasetWithoutAValidationPart()
    {
        var pipeline = Definition(CaptionFolder(10), train: 0.8, validation: 0);
        var captions = pipeline.ReadCaptions(NullLogger.Instance);

        var datasets = pipeline.BuildDatasets(captions, Features(captions, 4), new PipelineTrainingOptions(), NullLogger.Instance);

        Assert.That(datasets.Validation, Is.Null);
        Assert.That(ImagesIn(datasets.Train), Is.EquivalentTo(captions.Split.Train.ImageIds));
    }

    [Test]
    public void TheTrainingStageTrainsAModelShapedByTheDatasets()
    {
        var pipeline = Definition(CaptionFolder(10));
        var captions = pipeline.ReadCaptions(NullLogger.Instance);
        var datasets = pipeline.BuildDatasets(captions, Features(captions, 4), new PipelineTrainingOptions { BatchSize = 4 }, NullLogger.Instance);

        using var trained = pipeline.TrainModel(datasets, 4, new PipelineTrainingOptions { Epochs = 2, BatchSize = 4 }, torch.CPU, CancellationToken.None);

        Assert.That(trained.Result.History, Has.Count.EqualTo(2));
        Assert.That(trained.Result.History.Select(e => e.ValidationLoss), Has.All.Not.Null);
        Assert.That((trained.Model.VocabularySize, trained.Model.InputDimension, trained.Model.PadId),
            Is.EqualTo((datasets.Vocabulary.VocabularySize, 4, datasets.Vocabulary.PadId)));
    }

    /// <summary>Records reports on the reporting thread.</summary>
    private sealed class SynchronousProgress(List<PipelineProgress> sink) : IProgress<PipelineProgress>
    {
        public void Report(PipelineProgress value)
        {
            lock (sink) sink.Add(value);
        }
    }
}
