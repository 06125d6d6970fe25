using ImageCaptioning.Modeling;
using ImageCaptioning.Pipeline;
using ImageCaptioning.Testing;
using ImageCaptioning.Text;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Pipeline;

/// <summary>Every misuse of the builder is caught at Build/Train with a message that says what to call.</summary>
[TestFixture]
public sealed class PipelineBuilderTests
{
    private TempDirectory dir = null!;
    private string flickr = null!;

    [SetUp]
    public void SetUp()
    {
        dir = new TempDirectory();
        flickr = dir.File("flickr");
        Directory.CreateDirectory(Path.Combine(flickr, "Images"));
        File.WriteAllText(Path.Combine(flickr, "captions.txt"), "image,caption\na.jpg,a dog runs\n");
    }

    [TearDown]
    public void TearDown() => dir.Dispose();

    [Test]
    public void NoCaptionSourceSaysWhatToCall()
    {
        var error = Assert.Throws<InvalidOperationException>(() => CaptionPipeline.Create().WithVgg16(CnnWeights.Random(1)).Build());
        Assert.That(error!.Message, Does.Contain("no caption source").And.Contain("WithFlickr8k(path)").And.Contain("WithCaptions"));
    }

    [Test]
    public void NoFeatureExtractorSaysWhatToCall()
    {
        var error = Assert.Throws<InvalidOperationException>(() => CaptionPipeline.Create().WithFlickr8k(flickr).Build());
        Assert.That(error!.Message, Does.Contain("no feature extractor").And.Contain("WithVgg16()"));
    }

    [Test]
    public void TwoCaptionSourcesAreRejected()
    {
        var error = Assert.Throws<InvalidOperationException>(() => CaptionPipeline.Create().WithVgg16(CnnWeights.Random(1))
            .WithFlickr8k(flickr).WithCaptions(CaptionCorpus.Create([new ImageCaption("a.jpg", "a dog")]), flickr).Build());
        Assert.That(error!.Message, Does.Contain("more than one caption source"));
    }

    [Test]
    public void TwoFeatureExtractorsAreRejected()
    {
        var error = Assert.Throws<InvalidOperationException>(() => CaptionPipeline.Create().WithVgg16(CnnWeights.Random(1))
            .WithResNet50(CnnWeights.Random(1)).WithFlickr8k(flickr).Build());
        Assert.That(error!.Message, Does.Contain("more than one feature extractor").And.Contain("WithVgg16").And.Contain("WithResNet50"));
    }

    [Test]
    public void MissingFlickrFolderNamesThePathAndWhereToGetIt()
    {
        var missing = dir.File("nowhere");
        var error = Assert.Throws<DirectoryNotFoundException>(() => CaptionPipeline.Create().WithVgg16(CnnWeights.Random(1)).WithFlickr8k(missing).Build());
        Assert.That(error!.Message, Does.Contain(missing).And.Contain("kaggle"));
    }

    [Test]
    public void FlickrFolderWithoutCaptionsIsRejected()
    {
        File.Delete(Path.Combine(flickr, "captions.txt"));
        var error = Assert.Throws<FileNotFoundException>(() => CaptionPipeline.Create().WithVgg16(CnnWeights.Random(1)).WithFlickr8k(flickr).Build());
        Assert.That(error!.Message, Does.Contain("captions.txt").And.Contain("Flickr8k.token.txt"));
    }

    [Test]
    public void MissingWeightsFileIsNamed()
    {
        var weights = dir.File("vgg.pth");
        File.WriteAllText(weights, "x");
        var builder = CaptionPipeline.Create().WithVgg16(weights).WithFlickr8k(flickr);
        File.Delete(weights);
        var error = Assert.Throws<FileNotFoundException>(() => builder.Build());
        Assert.That(error!.Message, Does.Contain(weights).And.Contain("WithVgg16"));
    }

    [Test]
    public void MissingWordPieceVocabularyIsNamed()
    {
        var error = Assert.Throws<FileNotFoundException>(() => CaptionPipeline.Create().WithVgg16(CnnWeights.Random(1))
            .WithFlickr8k(flickr).WithWordPiece(dir.File("vocab.txt")).Build());
        Assert.That(error!.Message, Does.Contain("vocab.txt").And.Contain("WithWordPiece"));
    }

    [TestCase(0.0, 0.0)]
    [TestCase(0.8, 0.2)]
    [TestCase(0.5, -0.1)]
    public void ImpossibleSplitIsRejected(double train, double validation)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => CaptionPipeline.Create().WithVgg16(CnnWeights.Random(1))
            .WithFlickr8k(flickr).WithSplit(train, validation).Build());
        Assert.That(error!.Message, Does.Contain("WithSplit"));
    }

    [Test]
    public void SplitDoesNotApplyToKarpathy()
    {
        var splits = dir.File("dataset_flickr8k.json");
        File.WriteAllText(splits, """{"images": []}""");
        var error = Assert.Throws<InvalidOperationException>(() => CaptionPipeline.Create().WithVgg16(CnnWeights.Random(1))
            .WithKarpathySplits(splits, flickr).WithSplit(0.7, 0.1).Build());
        Assert.That(error!.Message, Does.Contain("carries its own split"));
    }

    [Test]
    public void BuilderIsFrozenAfterBuild()
    {
        var builder = CaptionPipeline.Create().WithVgg16(CnnWeights.Random(1)).WithFlickr8k(flickr);
        builder.Build();
        var error = Assert.Throws<InvalidOperationException>(() => builder.WithSeed(3));
        Assert.That(error!.Message, Does.Contain("CaptionPipeline.Create()"));
        Assert.Throws<InvalidOperationException>(() => builder.Build());
    }

    [Test]
    public void EarlyStoppingWithoutValidationSplitSaysHowToGetOne()
    {
        var pipeline = CaptionPipeline.Create().WithVgg16(CnnWeights.Random(1)).WithFlickr8k(flickr).Build();
        var error = Assert.Throws<InvalidOperationException>(() => pipeline.Train(o => o with { Patience = 2 }));
        Assert.That(error!.Message, Does.Contain("validation split").And.Contain("WithSplit"));
    }

    [Test]
    public void InvalidTrainingOptionsNameTheSetting()
    {
        var pipeline = CaptionPipeline.Create().WithVgg16(CnnWeights.Random(1)).WithFlickr8k(flickr).Build();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => pipeline.Train(o => o with { Epochs = 0 }));
        Assert.That(error!.ParamName, Is.EqualTo("Epochs"));
        var prefetch = Assert.Throws<ArgumentOutOfRangeException>(() => pipeline.Train(o => o with { PrefetchDepth = -1 }));
        Assert.That(prefetch!.ParamName, Is.EqualTo("PrefetchDepth"));
        Assert.That(prefetch.Message, Does.Contain("PrefetchDepth must be 0"));
    }

    [Test]
    public void NullArgumentsAreRejectedImmediately()
    {
        Assert.Throws<ArgumentException>(() => CaptionPipeline.Create().WithFlickr8k(" "));
        Assert.Throws<ArgumentNullException>(() => CaptionPipeline.Create().WithModel((Func<CaptionModelOptions, CaptionModelOptions>)null!));
        Assert.Throws<ArgumentNullException>(() => CaptionPipeline.Create().WithModel((SoftAttentionOptions)null!));
        Assert.Throws<ArgumentNullException>(() => CaptionPipeline.Create().WithModel((TransformerCaptionOptions)null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => CaptionPipeline.Create().WithWordTokenizer(0));
    }
}
