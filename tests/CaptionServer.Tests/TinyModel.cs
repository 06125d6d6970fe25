using CaptionServer.Load;
using ImageCaptioning.Pipeline;
using ImageCaptioning.Testing;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace CaptionServer.Tests;

/// <summary>One tiny captioner for the whole assembly, trained and saved once, and the library's own captions to check the server's against.</summary>
[SetUpFixture]
public sealed class TinyModel
{
    private static TempDirectory? directory;
    private static IReadOnlyList<string>? images;

    /// <summary>The saved captioner folder.</summary>
    public static string Folder => Path.Combine(Directory.Path, "model");

    /// <summary>JPEG files of the scenes it was trained on.</summary>
    public static IReadOnlyList<string> Images => images ?? throw new InvalidOperationException("the set-up fixture has not run");

    /// <summary>A scratch folder of the assembly's run.</summary>
    internal static TempDirectory Directory => directory ?? throw new InvalidOperationException("the set-up fixture has not run");

    [OneTimeSetUp]
    public void Train()
    {
        directory = new TempDirectory();
        images = TinyCaptioner.Train(Folder, directory.File("scratch"));
    }

    [OneTimeTearDown]
    public void Delete()
    {
        TinyCheckpoints.Delete();
        directory?.Dispose();
    }

    /// <summary>What the library itself answers for an image file, loaded from the same folder: the reference for the server's answers.</summary>
    public static ScoredCaption Expected(string file, ImageCaptioning.Modeling.DecodingOptions? decoding = null)
    {
        using var captioner = Captioner.Load(Folder, torch.CPU);
        using var image = ImageDecoder.Decode(file);
        return captioner.CaptionScored([image], decoding ?? captioner.Bundle.Decoding)[0];
    }
}
