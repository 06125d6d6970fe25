using ImageCaptioning.Modeling;
using ImageCaptioning.Pipeline;
using ImageCaptioning.Synthetic;
using ImageCaptioning.Testing;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Samples;

/// <summary>
/// TrainFlickr8k on a tiny synthetic folder in Flickr8k's Kaggle layout (seeded random ResNet-50 weights, 32 px,
/// one epoch), its messages for missing downloads, and CaptionImages on the model that run saved, compared with the
/// library's own captions of the same files.
/// </summary>
[TestFixture]
public sealed partial class TrainAndCaptionSampleTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    private static readonly string[] TinyRun =
        ["--network", "resnet50", "--random-weights", "5", "--image-size", "32", "--epochs", "1", "--hidden", "32", "--batch-size", "32"];

    private TempDirectory dir = null!;
    private SyntheticDataset data = null!;
    private string output = null!;
    private CommandResult training = null!;

    private string Model => Path.Combine(output, "model");

    [OneTimeSetUp]
    public void TrainOnce()
    {
        dir = new TempDirectory();
        data = new SyntheticCaptionedImages(new SyntheticDatasetOptions { ImageCount = 40, ImageSize = 32, Seed = 3 }).Generate(dir.File("flickr8k"));
        output = dir.File("out");
        training = DotnetCommand.RunSample("TrainFlickr8k", [data.Directory, "--output", output, .. TinyRun], Timeout);
    }

    [OneTimeTearDown]
    public void Delete() => dir.Dispose();

    [Test]
    public void TrainFlickr8kPrintsTheMetricsAndWritesTheReportAndModel()
    {
        Assert.That(training.ExitCode, Is.Zero, training.Transcript);
        Assert.That(training.StandardOutput, Does.Match(
            @"test split \(\d+ images, greedy\): BLEU-1 \d\.\d{3}  BLEU-2 \d\.\d{3}  BLEU-3 \d\.\d{3}  BLEU-4 \d\.\d{3}  CIDEr-D \d+\.\d{3}"), training.Transcript);
        Assert.That(training.StandardOutput, Does.Contain("weights: random (seed 5)"));
        Assert.That(File.ReadAllText(Path.Combine(output, "report.html")), Does.Contain("<img src="));
        Assert.That(Directory.GetFiles(Model).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { "config.json", "model.safetensors", "vocab.txt" }));
        Assert.That(File.ReadAllText(Path.Combine(Model, "config.json")), Does.Contain("\"captioner\""));
        Assert.That(training.ErrorLines, Is.Empty, "nothing goes wrong on the way\n" + training.Transcript);
    }

    [Test]
    public void TrainFlickr8kSecondRunReusesTheFeatureCacheInTheOutputFolder()
    {
        Assert.That(training.ExitCode, Is.Zero, training.Transcript);
        Assert.That(Directory.GetDirectories(Path.Combine(output, "features")), Is.Not.Empty, "the default feature cache is <output>/features");

        var again = DotnetCommand.RunSample("TrainFlickr8k", [data.Directory, "--output", output, .. TinyRun], Timeout);

        Assert.That(again.ExitCode, Is.Zero, again.Transcript);
        Assert.That(again.StandardOutput, Does.Contain($"0 extracted, {data.Images.Count} already cached"), again.Transcript);
    }

    [Test]
    public void TrainFlickr8kWithoutDatasetOrWeightsSaysWhatToDownloadAndWhere()
    {
        using var torchHome = new TempDirectory();
        var missing = dir.File("no-such-flickr8k");

        var run = DotnetCommand.RunSample("TrainFlickr8k", [missing, "--output", dir.File("unused")], Timeout,
            environment: new Dictionary<string, string?> { ["TORCH_HOME"] = torchHome.Path });

        Assert.That(run.ExitCode, Is.EqualTo(2), run.Transcript);
        Assert.That(run.StandardError, Does.Contain($"the Flickr8k folder '{missing}' does not exist"));
        Assert.That(run.StandardError, Does.Contain("https://www.kaggle.com/datasets/adityajn105/flickr8k"));
        Assert.That(run.StandardError, Does.Contain(Path.Combine(missing, "captions.txt")).And.Contain(Path.Combine(missing, "Images")));
        Assert.That(run.StandardError, Does.Contain(Path.Combine(torchHome.Path, "hub", "checkpoints", "vgg16-397923af.pth")));
        Assert.That(run.StandardError, Does.Contain("https://download.pytorch.org/models/vgg16-397923af.pth"));
        Assert.That(run.StandardError, Does.Contain("--random-weights"));
        AssertNoStackTrace(run);
        Assert.That(Directory.Exists(dir.File("unused")), Is.False, "nothing runs before the inputs are there");
    }

    [Test]
    public void TrainFlickr8kWithAMissingWeightsFileNamesItAndTheDownload()
    {
        var weights = dir.File("resnet50.pth");

        var run = DotnetCommand.RunSample("TrainFlickr8k", [data.Directory, "--network", "resnet50", "--weights", weights, "--output", dir.File("unused")], Timeout);

        Assert.That(run.ExitCode, Is.EqualTo(2), run.Transcript);
        Assert.That(run.StandardError, Does.Contain($"the ResNet-50 weights file '{weights}' (--weights) does not exist"));
        Assert.That(run.StandardError, Does.Contain("https://download.pytorch.org/models/resnet50-0676ba61.pth"));
        Assert.That(run.StandardError, Does.Not.Contain("Flickr8k folder"), "the dataset is there");
        AssertNoStackTrace(run);
    }

    [Test]
    public void TrainFlickr8kWithAFolderWithoutCaptionsSaysSo()
    {
        using var empty = new TempDirectory();

        var run = DotnetCommand.RunSample("TrainFlickr8k", [empty.Path, "--random-weights", "1"], Timeout);

        Assert.That(run.ExitCode, Is.EqualTo(2), run.Transcript);
        Assert.That(run.StandardError, Does.Contain("has no captions: neither captions.txt nor Flickr8k_text/Flickr8k.token.txt"));
        AssertNoStackTrace(run);
    }

    [TestCase("--epochs", "abc", "Cannot parse argument 'abc' for option '--epochs'")]
    [TestCase("--epochs", "0", "--epochs must be at least 1")]
    [TestCase("--network", "alexnet", "alexnet")]
    [TestCase("--learning-rate", "-1", "--learning-rate must be a positive number")]
    [TestCase("--patience", "0", "--patience must be at least 1")]
    [TestCase("--max-pixels", "0", "--max-pixels must be at least 1")]
    public void TrainFlickr8kRejectsABadOptionValueWithExitCode2(string option, string value, string message)
    {
        var run = DotnetCommand.RunSample("TrainFlickr8k", [data.Directory, "--random-weights", "1", option, value, "--output", dir.File("unused")], Timeout);

        Assert.That(run.ExitCode, Is.EqualTo(2), run.Transcript);
        Assert.That(run.StandardError, Does.Contain(message));
        AssertNoStackTrace(run);
    }

    // A line with only an image name; a header other than image,caption; a caption saved as Latin-1 ("café").
    [TestCase("image,caption\n{0},A dog runs .\n{1}\n", "captions.txt(3): expected two columns 'image,caption' but the record has one")]
    [TestCase("filename,text\n{0},A dog runs .\n", "captions.txt(1): expected the header 'image,caption' but found 'filename,text'")]
    [TestCase("image,caption\n{0},A dog runs .\n{1},A caf\u00e9 by the sea .\n", "captions.txt(3): invalid UTF-8 at byte offset")]
    public void TrainFlickr8kWithAMalformedCaptionsFileSaysWhereWithExitCode2(string captions, string message)
    {
        using var folder = new TempDirectory();
        var names = CopyImages(folder.File("Images"), 2);
        File.WriteAllBytes(folder.File("captions.txt"), System.Text.Encoding.Latin1.GetBytes(string.Format(captions, names[0], names[1])));

        var run = DotnetCommand.RunSample("TrainFlickr8k", [folder.Path, "--output", folder.File("out"), .. TinyRun], Timeout);

        SampleAssert.BadInput(run, folder.File(message));
    }

    [Test]
    public void TrainFlickr8kRefusesADatasetTooSmallToSplitBeforeExtractingAnything()
    {
        using var folder = new TempDirectory();
        var names = CopyImages(folder.File("Images"), 3);
        File.WriteAllText(folder.File("captions.txt"), "image,caption\n" + string.Concat(names.Select(n => $"{n},a red circle in the middle\n")));

        var run = DotnetCommand.RunSample("TrainFlickr8k", [folder.Path, "--output", folder.File("out"), .. TinyRun], Timeout);

        SampleAssert.BadInput(run, "3 captioned images give 2 train, 0 validation and 1 test images",
            $"needs at least {ImageCaptioning.Data.CaptionSplits.MinimumImageCount(0.75, 0.125)} images");
        Assert.That(Directory.Exists(folder.File("out/features")), Is.False, "refused before the feature extraction");
    }

    [Test]
    public void CaptionImagesCaptionsEveryReadableImageOfAFolderAndReportsEachUnreadableOne()
    {
        using var folder = new TempDirectory();
        var source = data.GetImagePath(data.Images[0].ImageId);
        var bytes = File.ReadAllBytes(source);
        foreach (var (name, i) in new[] { "a.jpg", "c.jpg", "e.jpg" }.Select((n, i) => (n, i))) File.Copy(data.GetImagePath(data.Images[i].ImageId), folder.File(name));
        File.WriteAllBytes(folder.File("b.jpg"), bytes[..(bytes.Length / 2)]);
        File.WriteAllBytes(folder.File("d.png"), []);
        File.WriteAllText(folder.File("f.jpg"), "not an image");

        var run = DotnetCommand.RunSample("CaptionImages", [Model, folder.Path], Timeout);

        Assert.That(run.ExitCode, Is.EqualTo(2), run.Transcript);
        var readable = new[] { "a.jpg", "c.jpg", "e.jpg" }.Select(folder.File).ToArray();
        using (var captioner = Captioner.Load(Model))
        {
            var captions = captioner.Caption(readable);
            Assert.That(run.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')),
                Is.EqualTo(readable.Select((path, i) => $"{path}: {captions[i]}")), run.Transcript);
        }
        // libtorch's own notices (NNPACK on a CPU it does not support) may come first: the sample's lines are the others.
        var errors = run.ErrorLines;
        Assert.That(errors, Has.Count.EqualTo(4), run.Transcript);
        foreach (var (bad, i) in new[] { "b.jpg", "d.png", "f.jpg" }.Select((b, i) => (b, i)))
            Assert.That(errors[i], Does.StartWith("error: ").And.Contain($"'{folder.File(bad)}'"), run.Transcript);
        Assert.That(errors[3], Is.EqualTo("error: 3 of 6 images could not be captioned"));
        SampleAssert.NoStackTrace(run);
    }

    [Test]
    public void CaptionImagesWithAModelFileChangedAfterSavingNamesItWithExitCode2()
    {
        using var copy = new TempDirectory();
        foreach (var file in Directory.GetFiles(Model)) File.Copy(file, copy.File(Path.GetFileName(file)));
        ImageCaptioning.Tests.Training.Tamper.FlipTensorBytes(copy.File("model.safetensors"));

        var run = DotnetCommand.RunSample("CaptionImages", [copy.Path, data.GetImagePath(data.Images[0].ImageId)], Timeout);

        SampleAssert.BadInput(run, copy.File("model.safetensors") + ": the SHA-256 is");
    }

    private string[] CopyImages(string folder, int count)
    {
        Directory.CreateDirectory(folder);
        var names = data.Images.Take(count).Select(i => i.ImageId).ToArray();
        foreach (var name in names) File.Copy(data.GetImagePath(name), Path.Combine(folder, name));
        return names;
    }

    [Test]
    public void CaptionImagesCaptionsFilesAsTheLibraryDoes()
    {
        var images = data.Images.Take(3).Select(i => data.GetImagePath(i.ImageId)).ToArray();

        var greedy = CaptionSample([Model, .. images]);
        var beam = CaptionSample([Model, .. images, "--beam", "3"]);
        var sampled = CaptionSample([Model, .. images, "--temperature", "0.7", "--seed", "9"]);

        using var captioner = Captioner.Load(Model);
        var decoding = captioner.Bundle.Decoding;
        Assert.That(greedy, Is.EqualTo(Expected(captioner.Caption(images))));
        Assert.That(beam, Is.EqualTo(Expected(captioner.Caption(images, decoding with { Strategy = DecodingStrategy.Beam, BeamWidth = 3 }))));
        Assert.That(sampled, Is.EqualTo(Expected(captioner.Caption(images, decoding with { Strategy = DecodingStrategy.Sample, Temperature = 0.7, Seed = 9 }))));

        IEnumerable<string> Expected(IReadOnlyList<string> captions) => images.Select((path, i) => $"{path}: {captions[i]}");
    }

    [Test]
    public void CaptionImagesCaptionsTheImagesOfAFolderInNameOrder()
    {
        using var folder = new TempDirectory();
        var names = new[] { "b.jpg", "a.JPG", "c.jpeg" };
        for (var i = 0; i < names.Length; i++) File.Copy(data.GetImagePath(data.Images[i].ImageId), folder.File(names[i]));
        File.WriteAllText(folder.File("notes.txt"), "not an image");

        var lines = CaptionSample([Model, folder.Path]);

        var expectedFiles = new[] { "a.JPG", "b.jpg", "c.jpeg" }.Select(folder.File).ToArray();
        using var captioner = Captioner.Load(Model);
        var captions = captioner.Caption(expectedFiles);
        Assert.That(lines, Is.EqualTo(expectedFiles.Select((path, i) => $"{path}: {captions[i]}")));
    }

    [Test]
    public void CaptionImagesRejectsAMissingModelOrImageWithExitCode2()
    {
        var run = DotnetCommand.RunSample("CaptionImages", [dir.File("no-model"), dir.File("no-image.jpg")], Timeout);

        Assert.That(run.ExitCode, Is.EqualTo(2), run.Transcript);
        Assert.That(run.StandardError, Does.Contain($"the model folder '{dir.File("no-model")}' does not exist"));
        Assert.That(run.StandardError, Does.Contain($"'{dir.File("no-image.jpg")}' is neither an image file nor a folder"));
        AssertNoStackTrace(run);
    }

    [Test]
    public void CaptionImagesRejectsBeamWithTemperature()
    {
        var run = DotnetCommand.RunSample("CaptionImages", [Model, data.GetImagePath(data.Images[0].ImageId), "--beam", "2", "--temperature", "1"], Timeout);

        Assert.That(run.ExitCode, Is.EqualTo(2), run.Transcript);
        Assert.That(run.StandardError, Does.Contain("--beam and --temperature exclude each other"));
    }

    [Test]
    public void CaptionImagesRefusesAnImageOverMaxPixelsNamingItAndTheLimit()
    {
        var image = data.GetImagePath(data.Images[0].ImageId);
        var run = DotnetCommand.RunSample("CaptionImages", [Model, image, "--max-pixels", "100"], Timeout);

        Assert.That(run.ExitCode, Is.EqualTo(2), run.Transcript);
        Assert.That(run.StandardError, Does.Contain(image).And.Contain("32x32 = 1024 pixels exceeds the limit of 100"));
        AssertNoStackTrace(run);
        Assert.That(DotnetCommand.RunSample("CaptionImages", [Model, image, "--max-pixels", "0"], Timeout).StandardError,
            Does.Contain("--max-pixels must be at least 1"));
    }

    private static string[] CaptionSample(string[] arguments)
    {
        var run = DotnetCommand.RunSample("CaptionImages", arguments, Timeout);
        Assert.That(run.ExitCode, Is.Zero, run.Transcript);
        // Not trimmed: an empty caption prints as "path: ".
        return run.StandardOutput.Split('\n').Select(line => line.TrimEnd('\r')).Where(line => line.Length > 0).ToArray();
    }

    private static void AssertNoStackTrace(CommandResult run) => SampleAssert.NoStackTrace(run);
}
