using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using ImageCaptioning.Testing;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Samples;

/// <summary>The README's main job, QuickStart, runs end to end on tiny inputs (the full-size run is ./build.sh demo).</summary>
[TestFixture]
public sealed partial class QuickStartSampleTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    [Test]
    public void RunsEndToEndOnTinyInputsAndWritesTheReportAndModel()
    {
        using var dir = new TempDirectory();
        var output = dir.File("out");

        var run = DotnetCommand.RunSample("QuickStart", ["--images", "60", "--image-size", "32", "--encoder-size", "32", "--epochs", "1", "--no-comparison", "--output", output], Timeout);

        Assert.That(MetricsLine().IsMatch(run.StandardOutput), Is.True, "no metrics line\n" + run.Transcript);
        var scene = SceneLine().Match(run.StandardOutput);
        Assert.That(scene.Success, Is.True, "no scene accuracy line\n" + run.Transcript);
        var precision = double.Parse(scene.Groups["p"].Value, CultureInfo.InvariantCulture);
        var recall = double.Parse(scene.Groups["r"].Value, CultureInfo.InvariantCulture);
        // QuickStart fails (exit 1) when fewer than 90% of the objects are right, as one epoch on 60 images will.
        Assert.That(run.ExitCode, Is.EqualTo(precision >= 0.9 && recall >= 0.9 ? 0 : 1), run.Transcript);
        Assert.That(run.StandardOutput, Does.Match(@"example: synthetic_\d+\.jpg: ""[a-z ]*"""));

        var report = Path.Combine(output, "report.html");
        Assert.That(File.Exists(report), Is.True, run.Transcript);
        // One captioner folder: its settings are in config.json, beside the weights and the vocabulary.
        Assert.That(Directory.GetFiles(Path.Combine(output, "model")).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { "config.json", "model.safetensors", "vocab.txt" }), run.Transcript);
        Assert.That(File.ReadAllText(Path.Combine(output, "model", "config.json")), Does.Contain("\"captioner\""), run.Transcript);
        var html = File.ReadAllText(report);
        Assert.That(html, Does.Contain("<figure"), "the main model attends: its report has heat-map strips");
        var images = ImageSource().Matches(html).Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)).ToList();
        Assert.That(images, Is.Not.Empty, "the report shows no image");
        foreach (var image in images)
            Assert.That(File.Exists(Path.Combine(output, Uri.UnescapeDataString(image))), Is.True, $"the report links {image}, which does not exist beside it");
    }

    [TestCase("abc", "Cannot parse argument 'abc' for option '--images'")]
    [TestCase("0", "--images 0 is too few")]
    public void ABadImageCountIsAUsageErrorWithExitCode2(string value, string message)
    {
        using var dir = new TempDirectory();

        var run = DotnetCommand.RunSample("QuickStart", ["--images", value, "--output", dir.File("out")], Timeout);

        Assert.That(run.ExitCode, Is.EqualTo(2), run.Transcript);
        Assert.That(run.StandardError, Does.Contain(message));
        SampleAssert.NoStackTrace(run);
        Assert.That(Directory.Exists(dir.File("out")), Is.False, "nothing runs on a wrong command line");
    }

    [Test]
    public void ADatasetTooSmallToSplitIsRefusedBeforeAnyWorkSayingHowManyImagesItNeeds()
    {
        using var dir = new TempDirectory();

        var run = DotnetCommand.RunSample("QuickStart", ["--images", "2", "--epochs", "1", "--output", dir.File("out")], Timeout);

        Assert.That(run.ExitCode, Is.EqualTo(2), run.Transcript);
        Assert.That(run.StandardError, Does.Contain("--images 2 is too few: the 80/10/10 % split needs at least 8 images for the train, validation and test splits to get one each (2 give 2 train, 0 validation, 0 test)"));
        SampleAssert.NoStackTrace(run);
        Assert.That(Directory.Exists(dir.File("out")), Is.False, "refused before generating the data");
    }

    [GeneratedRegex(@"main model \(CNN \+ soft attention\): BLEU-1 \d\.\d{3}  BLEU-2 \d\.\d{3}  BLEU-3 \d\.\d{3}  BLEU-4 \d\.\d{3}  CIDEr-D \d+\.\d{3}")]
    private static partial Regex MetricsLine();

    // Without the control run only the model's figures follow.
    [GeneratedRegex(@"(?m)^  scenes: whole scenes \d\.\d{3} \(\d+/\d+\); objects P (?<p>\d\.\d{3}) R (?<r>\d\.\d{3}); .*; count \d\.\d{3}; unparsed words \d+\r?$")]
    private static partial Regex SceneLine();

    [GeneratedRegex("<img src=\"([^\"]+)\"")]
    private static partial Regex ImageSource();
}
