using System.Runtime.InteropServices;
using ImageCaptioning.Vision;
using NUnit.Framework;
using SixLabors.ImageSharp.PixelFormats;
using ImageSharpImage = SixLabors.ImageSharp.Image;

namespace ImageCaptioning.Tests.Vision;

/// <summary>Pixels decoded by another library go through <see cref="RgbImage.FromPixels(ReadOnlySpan{byte}, int, int, int, RawPixelFormat, string?)"/> and the extraction API.</summary>
[TestFixture]
public sealed class RawPixelInteropTests
{
    private static readonly FeatureExtractorOptions Small = new()
    {
        Transform = new ImageTransformOptions { Resize = ImageResize.To(64, 64) },
        Device = torch.CPU,
        BatchSize = 2,
        DecodeThreads = 1,
    };

    [TestCase("photo_500x375.png")]
    [TestCase("rgba_257x181.png")]
    [TestCase("palette_199x143.png")]
    public void ImageSharp_decoded_Rgba32_pixels_give_the_files_pixels_and_features(string name)
    {
        var reference = ReferenceImages.Get()[name];
        using var decoded = ImageSharpImage.Load<Rgba32>(reference.Path);
        Assert.That(decoded.DangerousTryGetSinglePixelMemory(out var memory), Is.True);
        var bytes = MemoryMarshal.AsBytes(memory.Span);

        using var image = RgbImage.FromPixels(bytes, decoded.Width, decoded.Height, decoded.Width * 4, RawPixelFormat.Rgba32, "imagesharp");
        Assert.That(image.Pixels.ToArray(), Is.EqualTo(reference.PilRgb()), "ImageSharp's PNG pixels less alpha are PIL's convert(\"RGB\")");

        using var extractor = ResNet50FeatureExtractor.CreateRandom(3, options: Small);
        var fromPixels = extractor.Extract(bytes, decoded.Width, decoded.Height, decoded.Width * 4, RawPixelFormat.Rgba32);
        var fromFile = extractor.Extract([reference.Path]).Values.ToArray();
        Assert.That(fromPixels, Is.EqualTo(fromFile));
    }

    [TestCase(RawPixelFormat.Rgb24)]
    [TestCase(RawPixelFormat.Bgr24)]
    [TestCase(RawPixelFormat.Rgba32)]
    [TestCase(RawPixelFormat.Bgra32)]
    public void Every_layout_with_padded_rows_reads_as_the_same_RGB(RawPixelFormat format)
    {
        var reference = ReferenceImages.Get()["small_97x61.png"];
        var rgb = reference.PilRgb();
        var (width, height) = (reference.Width, reference.Height);
        var bytesPerPixel = format is RawPixelFormat.Rgb24 or RawPixelFormat.Bgr24 ? 3 : 4;
        var stride = (width * bytesPerPixel) + 13; // row padding, as bitmaps and OpenCV Mats have
        var raw = new byte[((height - 1) * stride) + (width * bytesPerPixel)];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var (r, g, b) = (rgb[((y * width) + x) * 3], rgb[(((y * width) + x) * 3) + 1], rgb[(((y * width) + x) * 3) + 2]);
                var o = (y * stride) + (x * bytesPerPixel);
                (raw[o], raw[o + 1], raw[o + 2]) = format is RawPixelFormat.Bgr24 or RawPixelFormat.Bgra32 ? (b, g, r) : (r, g, b);
                if (bytesPerPixel == 4) raw[o + 3] = (byte)(x * 2);
            }

        using var image = RgbImage.FromPixels(raw, width, height, stride, format);

        Assert.That(image.Pixels.ToArray(), Is.EqualTo(rgb));
    }

    [Test]
    public void Short_buffers_and_strides_are_rejected_naming_the_argument()
    {
        var raw = new byte[10 * 4 * 3];
        Assert.Multiple(() =>
        {
            Assert.That(() => RgbImage.FromPixels(raw, 10, 3, 39, RawPixelFormat.Rgba32),
                Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("stride"));
            Assert.That(() => RgbImage.FromPixels(raw, 10, 4, 40, RawPixelFormat.Rgba32),
                Throws.ArgumentException.With.Property("ParamName").EqualTo("pixels"));
            Assert.That(() => RgbImage.FromPixels(raw, 0, 3, 40, RawPixelFormat.Rgba32),
                Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("width"));
        });
        using var exact = RgbImage.FromPixels(raw, 10, 3, 40, RawPixelFormat.Rgba32);
        Assert.That(exact.ByteCount, Is.EqualTo(90));
    }

    [Test]
    public void Decoded_images_extract_like_their_files_in_batches()
    {
        var names = new[] { "photo_q90.jpg", "gray_q90.jpg", "rgba_257x181.png" };
        var paths = names.Select(n => ReferenceImages.Get()[n].Path).ToArray();
        var images = paths.Select(p => ImageDecoder.Decode(p)).ToArray();
        try
        {
            using var extractor = ResNet50FeatureExtractor.CreateRandom(3, options: Small);
            var fromImages = extractor.Extract(images);
            var fromFiles = extractor.Extract(paths);
            Assert.That(fromImages.Values.ToArray(), Is.EqualTo(fromFiles.Values.ToArray()));
            Assert.That(fromImages.Sources, Is.EqualTo(paths));
        }
        finally
        {
            foreach (var image in images) image.Dispose();
        }
    }
}
