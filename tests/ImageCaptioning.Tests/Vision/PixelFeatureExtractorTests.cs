using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Vision;

/// <summary>
/// PixelFeatureExtractor's rows are torchvision's transformed images (reference/vision_images.py: PIL decoding and
/// torchvision's Resize, CenterCrop, ToTensor and Normalize), flattened [3, H, W], through the extractor's batching.
/// </summary>
[TestFixture]
public sealed class PixelFeatureExtractorTests
{
    private static readonly string[] Names = ["gradient_rgb.png", "photo_500x375.png", "rgba_257x181.png", "photo_q90.jpg", "tall_50x700.png"];

    [Test]
    public void RowsAreTorchvisionsTransformedPixels()
    {
        var reference = ReferenceImages.Get();
        // The shorter side to 160 (at most 200), a 150x150 crop, and a normalisation that is not ImageNet's.
        var options = new FeatureExtractorOptions
        {
            Device = torch.CPU, BatchSize = 2, DecodeThreads = 2,
            Transform = new ImageTransformOptions
            {
                Resize = ImageResize.ShorterSideTo(160, maxSize: 200), CenterCrop = new ImageSize(150, 150),
                Mean = [0.5f, 0.5f, 0.5f], Std = [0.25f, 0.3f, 0.35f],
            },
        };
        using var extractor = new PixelFeatureExtractor(options);
        Assert.That((extractor.Name, extractor.Dimension, extractor.Size), Is.EqualTo(("pixels-150x150", 3 * 150 * 150, new ImageSize(150, 150))));

        var paths = Names.Select(name => reference[name].Path).ToArray();
        var rows = extractor.Extract(paths);
        Assert.That(rows.Sources, Is.EqualTo(paths));
        for (var i = 0; i < paths.Length; i++)
            Assert.That(rows.Row(i).ToArray(), Is.EqualTo(reference[Names[i]].TorchvisionOutput("resize160max200crop150")), Names[i]);
    }

    [Test]
    public void TheDefaultIsTheRecipesTransformAndForwardFlattensChannelsFirst()
    {
        var reference = ReferenceImages.Get();
        using var extractor = new PixelFeatureExtractor(new FeatureExtractorOptions { Device = torch.CPU });
        Assert.That((extractor.Name, extractor.Dimension), Is.EqualTo(("pixels-224x224", 3 * 224 * 224)));
        var expected = reference["photo_q90.jpg"].TorchvisionOutput("recipe224");
        Assert.That(extractor.Extract([reference["photo_q90.jpg"].Path]).Row(0).ToArray(), Is.EqualTo(expected));

        using var images = torch.tensor(expected, [1, 3, 224, 224]);
        using var forward = extractor.Forward(images);
        Assert.That(forward.shape, Is.EqualTo(new long[] { 1, 3 * 224 * 224 }));
        Assert.That(forward.data<float>().ToArray(), Is.EqualTo(expected));
        Assert.That(images.IsInvalid, Is.False, "the caller's images stay the caller's");
    }

    [Test]
    public void ImagesOfAnotherSizeAreRefused()
    {
        using var extractor = new PixelFeatureExtractor(new FeatureExtractorOptions
        {
            Device = torch.CPU, Transform = new ImageTransformOptions { Resize = ImageResize.To(64, 64) },
        });
        Assert.That(extractor.Name, Is.EqualTo("pixels-64x64"));
        using var images = torch.zeros(2, 3, 32, 32);
        var exception = Assert.Throws<ArgumentException>(() => extractor.Forward(images).Dispose())!;
        Assert.That(exception.Message, Does.Contain("pixels-64x64").And.Contain("12288"));
    }
}
