using ImageCaptioning.Encoders;
using ImageCaptioning.Modeling;
using ImageCaptioning.Pipeline;
using ImageCaptioning.Synthetic;
using ImageCaptioning.Testing;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Pipeline;

/// <summary>
/// The grid architectures through the whole pipeline: cached VGG16 conv5_3 grids → soft attention or the
/// transformer → evaluation, a report with attention strips, save, load and caption.
/// </summary>
[TestFixture]
public sealed class GridModelPipelineTests
{
    private TempDirectory dir = null!;
    private SyntheticDataset data = null!;

    [OneTimeSetUp]
    public void Generate()
    {
        dir = new TempDirectory();
        data = new SyntheticCaptionedImages(new SyntheticDatasetOptions { ImageCount = 30, ImageSize = 32, Seed = 4 }).Generate(dir.File("data"));
    }

    [OneTimeTearDown]
    public void Delete() => dir.Dispose();

    private static FeatureExtractorOptions Small => new() { Transform = ImageTransformOptions.Recipe224 with { Resize = ImageResize.To(32, 32) }, BatchSize = 8, Device = torch.CPU };

    private Captioner Train(CaptionPipelineBuilder builder, string cache, Vgg16SpatialFeatureExtractor extractor) => builder
        .WithFeatureExtractor(extractor)
        .WithFlickr8k(data.Directory)
        .WithFeatureCache(dir.File(cache))
        .WithSplit(0.7, 0.1)
        .WithDevice(torch.CPU)
        .WithSeed(3)
        .Train(o => o with { Epochs = 2, BatchSize = 16, ValidationBleu = true });

    private static IEnumerable<TestCaseData> Architectures()
    {
        yield return new TestCaseData((Func<CaptionPipelineBuilder, CaptionPipelineBuilder>)(b => b.WithModel(new SoftAttentionOptions { EmbeddingSize = 16, HiddenSize = 16, AttentionSize = 16 })), true)
            .SetName("SoftAttention");
        yield return new TestCaseData((Func<CaptionPipelineBuilder, CaptionPipelineBuilder>)(b => b.WithModel(new TransformerCaptionOptions { ModelDimension = 16, Heads = 2, Layers = 1, FeedForwardSize = 32 })), false)
            .SetName("Transformer");
    }

    [TestCaseSource(nameof(Architectures))]
    public void TrainsEvaluatesReportsSavesAndLoads(Func<CaptionPipelineBuilder, CaptionPipelineBuilder> architecture, bool attends)
    {
        using var extractor = Vgg16SpatialFeatureExtractor.CreateRandom(6, Small);
        using var captioner = Train(architecture(CaptionPipeline.Create()), "cache-" + attends, extractor);
        var model = captioner.Bundle.Model;
        Assert.That(model.InputDimension, Is.EqualTo(extractor.Dimension), "the pipeline sized the grid from the extractor: 2×2 cells of 512 channels");
        Assert.That(captioner.Training!.History, Has.Count.EqualTo(2));
        Assert.That(captioner.Training.History.Select(e => e.TrainLoss), Has.All.GreaterThan(0));

        var result = captioner.Evaluate();
        Assert.That(result.Images, Has.Count.EqualTo(6));
        var report = dir.File($"report-{attends}/report.html");
        captioner.WriteReport(report, result);
        var html = File.ReadAllText(report);
        Assert.That(html.Contains("<figure", StringComparison.Ordinal), Is.True, "both grid models report attention strips");
        Assert.That(model.AttentionGrid, Is.EqualTo((2, 2)));

        var images = captioner.ImageIds(SplitPart.Test).Take(3).Select(id => captioner.ImagePath(id)!).ToList();
        var captions = captioner.Caption(images);
        Assert.That(captions[0], Is.EqualTo(result.Images.First(i => i.ImageId == captioner.ImageIds(SplitPart.Test)[0]).Hypothesis));

        captioner.Save(dir.File("model-" + attends));
        using var loaded = Captioner.Load(dir.File("model-" + attends), torch.CPU, extractor: extractor);
        Assert.That(loaded.Bundle.Model.GetType(), Is.EqualTo(model.GetType()));
        Assert.That(loaded.Caption(images), Is.EqualTo(captions), "the saved model captions as the trained one");
    }

    [Test]
    public void ASmallCnnTrainsInsideTheModelAndTheSavedCaptionerRebuildsItsPixelInput()
    {
        using var captioner = CaptionPipeline.Create()
            .WithEncoder(new SmallCnnEncoderOptions { InputSize = 32, Widths = [8, 16] })
            .WithModel(new SoftAttentionOptions { EmbeddingSize = 16, HiddenSize = 16, AttentionSize = 16 })
            .WithFlickr8k(data.Directory)
            .WithFeatureCache(dir.File("cache-encoder"))
            .WithSplit(0.7, 0.1)
            .WithDevice(torch.CPU)
            .WithSeed(3)
            .Train(o => o with { Epochs = 2, BatchSize = 16, EncoderLearningRate = 3e-3, CheckpointDirectory = dir.File("checkpoints-encoder") });
        var model = captioner.Bundle.Model;
        Assert.That(model.Encoder, Is.InstanceOf<SmallCnnEncoder>());
        Assert.That(model.InputDimension, Is.EqualTo(3 * 32 * 32), "the cache holds pixels, the encoder computes the grid");
        Assert.That(model.AttentionGrid, Is.EqualTo((8, 8)));
        Assert.That(model.state_dict().Keys, Has.Some.StartsWith("encoder.layers."));

        var result = captioner.Evaluate();
        var images = captioner.ImageIds(SplitPart.Test).Take(3).Select(id => captioner.ImagePath(id)!).ToList();
        var captions = captioner.Caption(images);
        Assert.That(captions[0], Is.EqualTo(result.Images.First(i => i.ImageId == captioner.ImageIds(SplitPart.Test)[0]).Hypothesis));

        captioner.Save(dir.File("model-encoder"));
        using var loaded = Captioner.Load(dir.File("model-encoder"), torch.CPU);
        Assert.That(loaded.Bundle.Model.Encoder, Is.InstanceOf<SmallCnnEncoder>());
        Assert.That(loaded.Caption(images), Is.EqualTo(captions), "the loaded captioner decodes pixels and runs the same encoder");
    }

    [Test]
    public void AFineTunedResNet50TrainsAtItsOwnRateAndTheSavedCaptionerCaptionsTheSame()
    {
        using var captioner = CaptionPipeline.Create()
            .WithEncoder(new PretrainedCnnEncoderOptions { Network = EncoderNetwork.ResNet50, TrainableBlocks = 1, InputSize = 64 }, CnnWeights.Random(3))
            .WithModel(new TransformerCaptionOptions { FeatureDimension = 2048, ModelDimension = 16, Heads = 2, Layers = 1, FeedForwardSize = 32 })
            .WithFlickr8k(data.Directory)
            .WithFeatureCache(dir.File("cache-resnet"))
            .WithSplit(0.7, 0.1)
            .WithDevice(torch.CPU)
            .WithSeed(3)
            .Train(o => o with { Epochs = 1, BatchSize = 16, EncoderLearningRate = 1e-5 });
        var model = captioner.Bundle.Model;
        Assert.That(model.Encoder, Is.InstanceOf<PretrainedCnnEncoder>());
        Assert.That(model.AttentionGrid, Is.EqualTo((2, 2)), "layer4 of a 64-pixel image: 2×2 cells");
        Assert.That(model.Encoder!.TrainableParameters().Count(), Is.LessThan(model.Encoder.parameters().Count()), "only the last block trains");

        var images = captioner.ImageIds(SplitPart.Test).Take(3).Select(id => captioner.ImagePath(id)!).ToList();
        var captions = captioner.Caption(images);
        captioner.Save(dir.File("model-resnet"));
        using var loaded = Captioner.Load(dir.File("model-resnet"), torch.CPU);
        Assert.That(loaded.Bundle.Model.Encoder, Is.InstanceOf<PretrainedCnnEncoder>());
        Assert.That(loaded.Caption(images), Is.EqualTo(captions), "the loaded captioner rebuilds the network and its frozen and fine-tuned weights");
    }

    [Test]
    public void AnEncoderNeedsAGridModel()
    {
        var builder = CaptionPipeline.Create().WithEncoder(new SmallCnnEncoderOptions()).WithFlickr8k(data.Directory);
        Assert.That(Assert.Throws<InvalidOperationException>(() => builder.Build())!.Message, Does.Contain("WithEncoder needs a grid model"));
        var both = CaptionPipeline.Create().WithEncoder(new SmallCnnEncoderOptions()).WithVgg16().WithFlickr8k(data.Directory).WithModel(new SoftAttentionOptions());
        Assert.That(Assert.Throws<InvalidOperationException>(() => both.Build())!.Message, Does.Contain("more than one feature extractor"));
    }

    [Test]
    public void ChannelsThatDoNotDivideTheFeaturesAreRefusedNamingTheSetting()
    {
        using var extractor = Vgg16SpatialFeatureExtractor.CreateRandom(6, Small);
        var error = Assert.Throws<InvalidOperationException>(() => Train(CaptionPipeline.Create().WithModel(new SoftAttentionOptions { FeatureDimension = 300 }), "cache-bad", extractor));
        Assert.That(error!.Message, Does.Contain("FeatureDimension").And.Contain("2048"));
    }

    [Test]
    public void TwoArchitecturesAreRefusedAtBuild()
    {
        var builder = CaptionPipeline.Create().WithResNet50().WithFlickr8k(data.Directory)
            .WithModel(new SoftAttentionOptions()).WithModel(new TransformerCaptionOptions());
        Assert.That(Assert.Throws<InvalidOperationException>(() => builder.Build())!.Message, Does.Contain("more than one architecture"));
    }
}
