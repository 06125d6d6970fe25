using System.Globalization;
using System.Text.Json.Nodes;
using ImageCaptioning.Pretrained;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Pretrained;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Samples;

/// <summary>The CaptionImages sample on a Hugging Face checkpoint folder: captions with log-probabilities, unreadable images and bad folders reported with exit code 2.</summary>
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
