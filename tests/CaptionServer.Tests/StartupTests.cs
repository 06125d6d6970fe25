using ImageCaptioning.Testing;
using NUnit.Framework;

namespace CaptionServer.Tests;

/// <summary>The settings are checked when the server starts: a wrong one ends it with exit code 2 and one line naming the key.</summary>
[TestFixture]
public sealed class StartupTests
{
    [TestCase("--max-batch-size", "0", "CaptionServer:MaxBatchSize (--max-batch-size) must be between 1 and 256 (got 0)")]
    [TestCase("--batch-window-ms", "-1", "CaptionServer:BatchWindowMilliseconds (--batch-window-ms) must be between 0 and 10000 (got -1)")]
    [TestCase("--queue-capacity", "0", "CaptionServer:QueueCapacity (--queue-capacity) must be between 1 and 100000 (got 0)")]
    [TestCase("--max-upload-bytes", "0", "CaptionServer:MaxUploadBytes (--max-upload-bytes) must be between 1 and")]
    [TestCase("--device", "gpu", "CaptionServer:Device (--device) must be cpu, cuda or cuda:N (got 'gpu')")]
    public void AWrongSettingIsExit2WithOneLineNamingIt(string option, string value, string message)
    {
        var (exitCode, output) = ServerProcess.Run("--model", TinyModel.Folder, option, value);
        Assert.That(exitCode, Is.EqualTo(2), output);
        Assert.That(output.Trim().Split('\n'), Has.Length.EqualTo(1), output);
        Assert.That(output, Does.StartWith("error: ").And.Contain(message));
    }

    [Test]
    public void AMissingModelIsExit2()
    {
        var (exitCode, output) = ServerProcess.Run();
        Assert.That(exitCode, Is.EqualTo(2), output);
        Assert.That(output.Trim(), Does.StartWith("error: CaptionServer:Model (--model) is required"));
    }

    [Test]
    public void AFolderThatIsNeitherKindIsExit2NamingItAndTheMissingFile()
    {
        var (exitCode, output) = ServerProcess.Run("--model", TinyModel.Directory.Path);
        Assert.That(exitCode, Is.EqualTo(2), output);
        Assert.That(output.Trim().Split('\n'), Has.Length.EqualTo(1), output);
        Assert.That(output, Does.StartWith("error: CaptionServer:Model (--model): ")
            .And.Contain($"'{TinyModel.Directory.Path}' is neither a saved captioner folder (Captioner.Save) nor a hub checkpoint folder: it has no config.json"));
    }

    [Test]
    public void ACheckpointFolderWithoutItsProcessorSettingsIsExit2NamingTheFile()
    {
        using var scratch = new TempDirectory();
        var folder = scratch.File("vit-gpt2");
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.GetFiles(TinyCheckpoints.VitGpt2).Where(f => Path.GetFileName(f) != "preprocessor_config.json"))
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        var (exitCode, output) = ServerProcess.Run("--model", folder);
        Assert.That(exitCode, Is.EqualTo(2), output);
        Assert.That(output.Trim().Split('\n'), Has.Length.EqualTo(1), output);
        Assert.That(output, Does.StartWith("error: ").And.Contain(Path.Combine(folder, "preprocessor_config.json")), "loaded as a checkpoint, whose loader names the file");
    }
}
