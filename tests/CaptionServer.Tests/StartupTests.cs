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
    public void AFolderThatIsNoCaptionerIsExit2NamingTheFile()
    {
        var (exitCode, output) = ServerProcess.Run("--model", TinyModel.Directory.Path);
        Assert.That(exitCode, Is.EqualTo(2), output);
        Assert.That(output.Trim().Split('\n'), Has.Length.EqualTo(1), output);
        Assert.That(output, Does.Contain("config.json"));
    }
}
