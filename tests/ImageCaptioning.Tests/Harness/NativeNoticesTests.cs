using ImageCaptioning.Tests.Samples;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Harness;

/// <summary>
/// libtorch's machine-dependent notices are told from every other stderr line: a sample's stderr that carries them
/// still passes the samples' checks, and anything else on it still fails them.
/// </summary>
[TestFixture]
public sealed class NativeNoticesTests
{
    [TestCase("Could not initialize NNPACK! Reason: Unsupported hardware.")]
    [TestCase("[W NNPACK.cpp:64] Could not initialize NNPACK! Reason: Unsupported hardware.")]
    [TestCase("[W1202 19:42:07.123456 4711 NNPACK.cpp:62] Could not initialize NNPACK! Reason: Unsupported hardware.")]
    [TestCase("Error in cpuinfo: failed to parse the list of possible processors in /sys/devices/system/cpu/possible")]
    [TestCase("Warning in cpuinfo: Unknown chipset")]
    public void LibTorchsNoticesAreKnown(string line) => Assert.That(NativeNotices.Is(line), Is.True);

    [TestCase("error: 'a.jpg' is not an image")]
    [TestCase("Unhandled exception. System.InvalidOperationException: boom")]
    [TestCase("   at ImageCaptioning.Vision.ImageDecoder.Decode(String path)")]
    [TestCase("[W1202 19:42:07.123456 4711 Convolution.cpp:1032] Warning: some other libtorch warning")]
    [TestCase("error: Could not initialize NNPACK! Reason: Unsupported hardware.")]
    [TestCase("Could not initialize NNPACK! Reason: Unsupported hardware. error: 'a.jpg' is not an image\nmore")]
    public void EverythingElseIsNot(string line) => Assert.That(NativeNotices.Is(line), Is.False);

    [Test]
    public void ASamplesErrorLinesAreWhatIsLeft()
    {
        var stderr = "[W1202 19:42:07.123456 4711 NNPACK.cpp:62] Could not initialize NNPACK! Reason: Unsupported hardware.\r\n"
            + "error: 'b.jpg' is not an image\n\nerror: 1 of 2 images could not be captioned\n";
        var run = new CommandResult("dotnet CaptionImages.dll model photos", 2, "", stderr);

        Assert.That(run.ErrorLines, Is.EqualTo(new[] { "error: 'b.jpg' is not an image", "error: 1 of 2 images could not be captioned" }));
        SampleAssert.BadInput(run, "1 of 2 images");
    }

    [Test]
    public void AnyOtherLineOnABadInputRunStillFailsTheCheck()
    {
        var stderr = "Could not initialize NNPACK! Reason: Unsupported hardware.\n"
            + "warning: something the sample should not print\nerror: 'b.jpg' is not an image\n";
        var run = new CommandResult("dotnet CaptionImages.dll model b.jpg", 2, "", stderr);

        var failure = Assert.Throws<AssertionException>(() => SampleAssert.BadInput(run, "b.jpg"))!;
        Assert.That(failure.Message, Does.Contain("error: lines only"));
        Assert.That(new CommandResult("dotnet TrainFlickr8k.dll", 0, "", "[W NNPACK.cpp:64] Could not initialize NNPACK! Reason: Unsupported hardware.\n").ErrorLines, Is.Empty);
    }
}
