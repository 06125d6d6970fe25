using ImageCaptioning.Pipeline;
using ImageCaptioning.Synthetic;
using ImageCaptioning.Testing;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Pipeline;

/// <summary>A tiny real run: synthetic JPEGs → random-weight ResNet-50 features → training → evaluation → save/load.</summary>
[TestFixture]
public sealed class PipelineEndToEndTests
{
    private TempDirectory dir = null!;
    private SyntheticDataset data = null!;

    [OneTimeSetUp]
    public void Generate()
    {
        dir = new TempDirectory();
        data = new SyntheticCaptionedImages(new SyntheticDatasetOptions { ImageCount = 40, ImageSize = 32, Seed = 3 }).Generate(dir.File("data"));
    }

    [OneTimeTearDown]
    public void Delete() => dir.Dispose();

    private CaptionPipelineBuilder Builder(string cache, List<PipelineProgress>? progress = null, string? flickr8k = null)
    {
        var builder = CaptionPipeline.Create()
            .WithResNet50(CnnWeights.Random(5))
            .WithFeatureExtractorOptions(o => o with { Transform = ImageTransformOptions.Recipe224 with { Resize = ImageResize.To(32, 32) }, BatchSize = 8 })
            .WithFlickr8k(flickr8k ?? data.Directory)
            .WithFeatureCache(dir.File(cache))
            .WithModel(m => m with { EmbeddingSize = 16, HiddenSize = 16 })
            .WithSplit(0.7, 0.1)
            .WithDevice(torch.CPU)
            .WithSeed(2);
        return progress is null ? builder : builder.WithProgress(new SynchronousProgress(progress));
    }

    [Test]
    public void TrainsEvaluatesSavesAndLoads()
    {
        var progress = new List<PipelineProgress>();
        using var captioner = Builder("cache-main", progress).Train(o => o with { Epochs = 2, BatchSize = 16, ValidationBleu = true });

        Assert.That(captioner.Training!.History, Has.Count.EqualTo(2));
        Assert.That(captioner.Training.History[1].ValidationBleu4, Is.Not.Null);
        Assert.That(progress.Select(p => p.Stage).Distinct(), Is.SupersetOf(new[] { PipelineStage.ReadingCaptions, PipelineStage.ExtractingFeatures, PipelineStage.Training }));

        var test = captioner.ImageIds(SplitPart.Test);
        Assert.That(test, Has.Count.EqualTo(8));
        var result = captioner.Evaluate();
        Assert.That(result.Images, Has.Count.EqualTo(8));
        Assert.That(result.Bleu.Bleu1, Is.InRange(0.0, 1.0));
        Assert.That(result.Images.Select(i => i.References.Count), Is.All.EqualTo(5));
        Assert.That(result.Images.SelectMany(i => i.References), Has.None.Contain("startseq"), "references are scored without the marks");

        var report = dir.File("report/report.html");
        captioner.WriteReport(report, result);
        var html = File.ReadAllText(report);
        Assert.That(html, Does.Contain("BLEU-4").And.Contain("<img src=\"../data/Images/" + test[0]));

        var images = test.Take(3).Select(id => captioner.ImagePath(id)!).ToList();
        var captions = captioner.Caption(images);
        Assert.That(captions, Has.Count.EqualTo(3));
        Assert.That(captions[0], Is.EqualTo(result.Images.First(i => i.ImageId == test[0]).Hypothesis), "captioning a file equals captioning its cached features");

        using (var decoded = ImageDecoder.Decode(images[0]))
        {
            Assert.That(captioner.Caption(decoded), Is.EqualTo(captions[0]), "a decoded image captions like its file");
            Assert.That(captioner.Caption(decoded.Pixels, decoded.Width, decoded.Height, decoded.Width * 3, RawPixelFormat.Rgb24), Is.EqualTo(captions[0]),
                "raw pixels caption like their file");
        }

        captioner.Save(dir.File("model"));
        using var loaded = Captioner.Load(dir.File("model"), torch.CPU);
        Assert.That(loaded.Caption(images), Is.EqualTo(captions), "a loaded captioner rebuilds the same extractor and model");
    }

    [Test]
    public void AnyMicrosoftMLTokenizerTrainsCaptionsAndTheSavedModelLoadsWithIt()
    {
        var words = data.Images.SelectMany(i => i.Captions).SelectMany(c => c.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Distinct();
        var tiktoken = ImageCaptioning.Tests.Text.ForeignTokenizers.Tiktoken(words);
        using var captioner = Builder("cache-tokenizer").WithTokenizer(tiktoken).Train(o => o with { Epochs = 1, BatchSize = 16 });

        Assert.That(captioner.Bundle.Vocabulary.IsMapped, Is.True);
        Assert.That(captioner.Bundle.Vocabulary.VocabularySize, Is.LessThan(100), "the captions' ids, not the tokenizer's");
        var images = captioner.ImageIds(SplitPart.Test).Take(2).Select(id => captioner.ImagePath(id)!).ToList();
        var captions = captioner.Caption(images);
        Assert.That(captions.SelectMany(c => c.Split(' ', StringSplitOptions.RemoveEmptyEntries)), Has.None.EqualTo("startseq").And.None.EqualTo("endseq"));

        captioner.Save(dir.File("model-tiktoken"));
        Assert.That(() => Captioner.Load(dir.File("model-tiktoken"), torch.CPU), Throws.ArgumentException.With.Message.Contains("TiktokenTokenizer"));
        using var loaded = Captioner.Load(dir.File("model-tiktoken"), torch.CPU, tokenizer: tiktoken);
        Assert.That(loaded.Caption(images), Is.EqualTo(captions));
    }

    [Test]
    public void SecondRunReusesTheFeatureCache()
    {
        var first = new List<PipelineProgress>();
        using (Builder("cache-reuse", first).Train(o => o with { Epochs = 1 })) { }
        var second = new List<PipelineProgress>();
        using (Builder("cache-reuse", second).Train(o => o with { Epochs = 1 })) { }
        Assert.That(first.Any(p => p.Stage == PipelineStage.ExtractingFeatures && p.Done > 0), Is.True, "the first run extracts");
        Assert.That(second.Where(p => p.Stage == PipelineStage.ExtractingFeatures).Select(p => p.Done), Is.All.EqualTo(0), "the second run extracts nothing");
    }

    [Test]
    public void ADamagedFeatureCacheFailsTheRunBeforeTraining()
    {
        using (Builder("cache-damaged").Train(o => o with { Epochs = 1 })) { }
        var features = Directory.GetFiles(dir.File("cache-damaged"), "features.npy", SearchOption.AllDirectories).Single();
        var bytes = File.ReadAllBytes(features);
        bytes[^5] ^= 0x08; // one bit of the last row's features
        File.WriteAllBytes(features, bytes);

        var progress = new List<PipelineProgress>();
        var error = Assert.Throws<ImageCaptioning.Features.FeatureStoreException>(() => Builder("cache-damaged", progress).Train(o => o with { Epochs = 1 }))!;
        Assert.That(error.FilePath, Is.EqualTo(features));
        Assert.That(error.Message, Does.Contain("SHA-256"));
        Assert.That(progress.Select(p => p.Stage), Has.None.EqualTo(PipelineStage.Training));
    }

    [Test]
    public void SameSeedSameCaptions()
    {
        using var a = Builder("cache-seed").Train(o => o with { Epochs = 1 });
        using var b = Builder("cache-seed").Train(o => o with { Epochs = 1 });
        Assert.That(b.Training!.History[0].TrainLoss, Is.EqualTo(a.Training!.History[0].TrainLoss));
        Assert.That(b.Evaluate().Images.Select(i => i.Hypothesis), Is.EqualTo(a.Evaluate().Images.Select(i => i.Hypothesis)));
    }

    [Test]
    public void MissingImageFilesAreListed()
    {
        var broken = dir.File("broken");
        CopyDirectory(data.Directory, broken);
        File.Delete(Path.Combine(broken, "Images", data.Images[4].ImageId));
        var error = Assert.Throws<FileNotFoundException>(() => CaptionPipeline.Create().WithResNet50(CnnWeights.Random(5))
            .WithFlickr8k(broken).WithFeatureCache(dir.File("cache-broken")).Train());
        Assert.That(error!.Message, Does.Contain("1 of 40 images").And.Contain(data.Images[4].ImageId));
    }

    [Test]
    public void TryCaptionCaptionsEveryReadableFileAndNamesEachUnreadableOne()
    {
        using var captioner = Builder("cache-try").Train(o => o with { Epochs = 1 });
        var bad = dir.File("unreadable");
        Directory.CreateDirectory(bad);
        var truncated = Path.Combine(bad, "truncated.jpg");
        var bytes = File.ReadAllBytes(data.GetImagePath(data.Images[0].ImageId));
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 3)]);
        var missing = Path.Combine(bad, "missing.jpg");
        var good = data.Images.Take(12).Select(i => data.GetImagePath(i.ImageId)).ToList();
        // Batches of 8: the first unreadable file is in the first batch, the second in the second one.
        var paths = new List<string>(good);
        paths.Insert(2, truncated);
        paths.Insert(9, missing);

        var results = captioner.TryCaption(paths);

        Assert.That(results.Select(r => r.Path), Is.EqualTo(paths));
        Assert.That(results.Where(r => r.Succeeded).Select(r => r.Caption), Is.EqualTo(captioner.Caption(good)), "each readable image gets the caption a batch without the bad ones gives it");
        Assert.That(results.Where(r => !r.Succeeded).Select(r => r.Path), Is.EqualTo(new[] { truncated, missing }));
        Assert.That(results[2].Error, Is.InstanceOf<ImageDecodeException>().And.Message.Contain(truncated));
        Assert.That(results[9].Error, Is.InstanceOf<FileNotFoundException>().And.Message.Contain(missing));
        Assert.Throws<ImageDecodeException>(() => captioner.Caption(paths), "Caption still stops at the first unreadable file");
    }

    [Test]
    public void ADatasetTooSmallToSplitIsRefusedBeforeExtraction()
    {
        var tiny = dir.File("tiny");
        CopyDirectory(data.Directory, tiny);
        var captions = Path.Combine(tiny, "captions.txt");
        var kept = File.ReadAllLines(captions).Where((line, i) => i == 0 || data.Images.Take(4).Any(image => line.StartsWith(image.ImageId + ",", StringComparison.Ordinal)));
        File.WriteAllLines(captions, kept);

        var error = Assert.Throws<InvalidDataException>(() => Builder("cache-tiny", flickr8k: tiny).Train(o => o with { Epochs = 1 }));

        Assert.That(error!.Message, Does.Contain("4 captioned images give 3 train, 0 validation and 1 test images")
            .And.Contain($"needs at least {ImageCaptioning.Data.CaptionSplits.MinimumImageCount(0.7, 0.1)} images"));
        Assert.That(Directory.Exists(dir.File("cache-tiny")), Is.False, "nothing was extracted");
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    /// <summary>Records reports on the reporting thread (Progress&lt;T&gt; would post them later).</summary>
    private sealed class SynchronousProgress(List<PipelineProgress> sink) : IProgress<PipelineProgress>
    {
        public void Report(PipelineProgress value)
        {
            lock (sink) sink.Add(value);
        }
    }
}
