using System.Text.Json.Nodes;
using ImageCaptioning.Persistence;
using ImageCaptioning.Pipeline;
using ImageCaptioning.Testing;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Persistence;

[TestFixture]
public sealed class CaptionerFolderTests
{
    private static readonly string[] FolderFiles = ["config.json", "model.safetensors", "vocab.txt"];

    private static string[] Captions(Captioner captioner) =>
        [.. CaptionerFixture.Images().Select(image => captioner.Caption(image.Pixels, image.Width, image.Height, image.Width * 3, RawPixelFormat.Rgb24))];

    private static string[] WrittenCaptions => File.ReadAllLines(CaptionerFolders.Format1Fixture + ".captions.txt");

    /// <summary>The folder holds the three files of a captioner (pipeline.json is neither written nor kept) and captions as the fixture did.</summary>
    private static void AssertSavedWhole(string folder)
    {
        Assert.That(Directory.GetFiles(folder).Select(Path.GetFileName).Order(), Is.EqualTo(FolderFiles));
        using var reloaded = Captioner.Load(folder);
        Assert.That(Captions(reloaded), Is.EqualTo(WrittenCaptions));
    }

    /// <summary>The folder commit 35c54f3's Captioner.Save wrote (a format-1 bundle, then pipeline.json), with the captions it gave then.</summary>
    [Test]
    public void AFormat1CaptionerFolderLoadsWhenAllowedAndCaptionsAsWhenItWasWritten()
    {
        using var loaded = Captioner.Load(CaptionerFolders.Format1Fixture, integrity: FolderIntegrity.AllowEdited);

        Assert.That(Captions(loaded), Is.EqualTo(WrittenCaptions));
        Assert.That(loaded.Bundle.FeatureExtractor!.Name, Is.EqualTo("resnet50-avgpool"));
        Assert.That(loaded.Bundle.FeatureExtractor.Preprocessing!.Resize, Is.EqualTo(ImageResize.To(32, 32)));
    }

    /// <summary>Format 1 does not cover its settings, so a damaged format-2 folder whose format reads 1 would otherwise load them unverified.</summary>
    [Test]
    public void AFormat1FolderIsRefusedUnlessEditedFoldersAreAllowed()
    {
        var error = Assert.Throws<InvalidDataException>(() => Captioner.Load(CaptionerFolders.Format1Fixture));

        Assert.That(error!.Message, Does.StartWith(Path.Combine(CaptionerFolders.Format1Fixture, "config.json"))
            .And.Contain("records no digest of the settings").And.Contain("FolderIntegrity.AllowEdited"));
    }

    [Test]
    public void SaveWritesOneConfigurationOnceWithTheCaptionerSettingsAndTheCaptionsSurvive()
    {
        using var dir = new TempDirectory();
        var folder = dir.File("captioner");
        using (var old = Captioner.Load(CaptionerFolders.Format1Fixture, integrity: FolderIntegrity.AllowEdited)) old.Save(folder);

        AssertSavedWhole(folder);
        Assert.That(Directory.GetFileSystemEntries(dir.Path), Is.EqualTo(new[] { folder }), "staging folders left behind");
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!;
        Assert.That((int)config["format"]!, Is.EqualTo(2));
        var captioner = config["captioner"]!;
        Assert.That(((string?)captioner["network"], (string?)captioner["weightsKind"], (int)captioner["weightsSeed"]!), Is.EqualTo(("ResNet50", "Random", 5)));
        Assert.That(((string?)captioner["startMark"], (string?)captioner["endMark"]), Is.EqualTo(("startseq", "endseq")));
        Assert.That(config["sha256"]!.AsObject().Select(pair => pair.Key).Order(), Is.EqualTo(new[] { "config.json", "model.safetensors", "vocab.txt" }));
    }

    [Test]
    public void SavingOverAFormat1FolderReplacesItWhole()
    {
        using var dir = new TempDirectory();
        var folder = dir.File("captioner");
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.GetFiles(CaptionerFolders.Format1Fixture)) File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        Assert.That(File.Exists(Path.Combine(folder, "pipeline.json")));

        using (var old = Captioner.Load(folder, integrity: FolderIntegrity.AllowEdited)) old.Save(folder);

        AssertSavedWhole(folder);
    }

    [Test]
    public void ABundleLoadsFromACaptionerFolderButACaptionerNeedsItsSettings()
    {
        using var dir = new TempDirectory();
        var bundleFolder = dir.File("bundle");
        using (var captioner = Captioner.Load(CaptionerFolders.Format1Fixture, integrity: FolderIntegrity.AllowEdited))
        {
            captioner.Save(dir.File("captioner"));
            captioner.Bundle.Save(bundleFolder);
        }

        using (var bundle = CaptionModelBundle.Load(dir.File("captioner")))
            Assert.That(bundle.FeatureExtractor!.Name, Is.EqualTo("resnet50-avgpool"));
        var error = Assert.Throws<InvalidDataException>(() => Captioner.Load(bundleFolder));
        Assert.That(error!.Message, Does.StartWith(Path.Combine(bundleFolder, "config.json")).And.Contain("'captioner'").And.Contain("not a saved captioner"));
    }
}
