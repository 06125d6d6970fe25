using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using ImageCaptioning.Pretrained;
using ImageCaptioning.Synthetic;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Pretrained;
using ImageCaptioning.Tests.Pretrained.Blip;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Samples;

/// <summary>
/// The CaptionImages sample on a Hugging Face checkpoint folder (ViT-GPT-2 or BLIP, told apart by config.json's
/// architectures): captions with log-probabilities as the library gives them, --beam, --max-length and --prompt, progress
/// and the report page, unreadable images and bad folders or options reported with exit code 2.
/// </summary>
[TestFixture]
public sealed class PretrainedCaptionImagesSampleTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    [Test]
    public void CaptionsACheckpointFolderAndReportsUnreadableImages()
    {
        PythonReference.Require("torch", "regex", "PIL", "numpy");
        using var root = new TempDirectory();
        var model = VitGpt2Fixture.Make(root, "vit-gpt2", VitGpt2Fixture.Spec(["safetensors"]));
        var images = Directory.CreateDirectory(root.File("images")).FullName;
        foreach (var name in VitGpt2Fixture.Images.Take(3)) File.Copy(Path.Combine(model, name), Path.Combine(images, name));
        File.WriteAllText(Path.Combine(images, "z.png"), "not an image");

        var run = DotnetCommand.RunSample("CaptionImages", [model, images, "--beam", "2"], Timeout);

        Assert.That(run.ExitCode, Is.EqualTo(2), run.Transcript);
        var readable = VitGpt2Fixture.Images.Take(3).Select(name => Path.Combine(images, name)).ToArray();
        using (var captioner = PretrainedCaptioner.Load(model))
        {
            var captions = captioner.Caption(readable, new PretrainedGenerationOptions { NumBeams = 2 });
            Assert.That(run.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')),
                Is.EqualTo(readable.Select((path, i) => $"{path}: {captions[i].Text} (log p {captions[i].LogProbability.ToString("F3", CultureInfo.InvariantCulture)})")),
                run.Transcript);
        }
        Assert.That(run.ErrorLines, Has.Some.StartsWith("error: ").And.Contain("z.png"), run.Transcript);
        Assert.That(run.ErrorLines[^1], Is.EqualTo("error: 1 of 4 images could not be captioned"), run.Transcript);
        SampleAssert.NoStackTrace(run);
    }

    [Test]
    public void CaptionsABlipFolderWithPromptBeamAndMaxLengthAndWritesTheReport()
    {
        using var checkpoint = BlipCheckpoint.Create(configure: spec => spec["sep_bias"] = 2.0);
        using var root = new TempDirectory();
        var images = Directory.CreateDirectory(root.File("photos")).FullName;
        var paths = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var image = RgbImage.FromPixels(48 + (8 * i), 40, Enumerable.Range(0, (48 + (8 * i)) * 40 * 3).Select(j => (byte)((j * (7 + i)) % 251)).ToArray());
            var path = Path.Combine(images, $"photo {i} & co.jpg");
            File.WriteAllBytes(path, JpegEncoder.Encode(image));
            paths.Add(path);
        }
        var report = root.File("report.html");

        var run = DotnetCommand.RunSample("CaptionImages",
            [checkpoint.Folder, images, "--beam", "3", "--max-length", "9", "--prompt", "a picture of", "--report", report], Timeout);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Transcript);
        using (var captioner = PretrainedCaptioner.Load(checkpoint.Folder))
        {
            Assert.That(captioner.Architecture, Is.EqualTo("BlipForConditionalGeneration"));
            var captions = captioner.Caption(paths, new PretrainedGenerationOptions { NumBeams = 3, MaxLength = 9 }, "a picture of");
            Assert.That(captions.Select(c => c.Text), Has.All.StartsWith("a picture of"), "the prompt is part of BLIP's caption");
            Assert.That(run.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')),
                Is.EqualTo(paths.Select((path, i) => $"{path}: {captions[i].Text} (log p {captions[i].LogProbability.ToString("F3", CultureInfo.InvariantCulture)})")),
                run.Transcript);
            var page = File.ReadAllText(report);
            foreach (var (path, caption) in paths.Zip(captions))
                Assert.That(page, Does.Contain(WebUtility.HtmlEncode(caption.Text)).And.Contain($"src=\"photos/{Uri.EscapeDataString(Path.GetFileName(path))}\""), page);
            Assert.That(page, Does.Contain("3 of 3 images captioned"));
        }
        Assert.That(run.ErrorLines, Does.Contain("progress: 3 of 3 images"), run.Transcript);
        Assert.That(run.ErrorLines, Does.Contain($"report: {report}"), run.Transcript);
        SampleAssert.NoStackTrace(run);
    }

    [Test]
    public void APromptForViTGpt2OrASavedCaptionerExitsWithTwo()
    {
        PythonReference.Require("torch", "regex", "PIL", "numpy");
        using var root = new TempDirectory();
        var model = VitGpt2Fixture.Make(root, "vit-gpt2", VitGpt2Fixture.Spec(["safetensors"]));
        var image = Path.Combine(model, "image0.png");

        SampleAssert.BadInput(DotnetCommand.RunSample("CaptionImages", [model, image, "--prompt", "a picture of"], Timeout),
            "error: --prompt: VisionEncoderDecoderModel takes no text prompt");

        // Told apart by config.json's architectures, not by the other files: without its processor settings the folder is
        // still a checkpoint, refused naming the missing file.
        File.Delete(Path.Combine(model, "preprocessor_config.json"));
        SampleAssert.BadInput(DotnetCommand.RunSample("CaptionImages", [model, image], Timeout), "preprocessor_config.json");

        var notACheckpoint = Directory.CreateDirectory(root.File("empty")).FullName;
        SampleAssert.BadInput(DotnetCommand.RunSample("CaptionImages", [notACheckpoint, image, "--prompt", "a picture of"], Timeout),
            "error: --prompt applies to a Hugging Face BLIP checkpoint folder");
    }

    [Test]
    public void UnknownArchitectureExitsWithTwoNamingTheKey()
    {
        PythonReference.Require("torch", "regex", "PIL", "numpy");
        using var root = new TempDirectory();
        var model = VitGpt2Fixture.Make(root, "vit-gpt2", VitGpt2Fixture.Spec(["safetensors"]));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(model, "config.json")))!.AsObject();
        config["architectures"] = new JsonArray("LlavaForConditionalGeneration");
        File.WriteAllText(Path.Combine(model, "config.json"), config.ToJsonString());

        var run = DotnetCommand.RunSample("CaptionImages", [model, Path.Combine(model, "image0.png")], Timeout);

        SampleAssert.BadInput(run, "config.json", "'architectures'", "LlavaForConditionalGeneration");
    }
}
