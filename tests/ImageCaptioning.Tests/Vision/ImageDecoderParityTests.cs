using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Vision;

[TestFixture]
public sealed class ImageDecoderParityTests
{
    private static IEnumerable<TestCaseData> Images() => ReferenceImageNames.All.Select(n => new TestCaseData(n).SetArgDisplayNames(n));

    [TestCaseSource(nameof(Images))]
    public void Decoded_pixels_equal_PIL_convert_RGB(string name)
    {
        var reference = ReferenceImages.Get()[name];
        using var image = ImageDecoder.Decode(reference.Path);

        Assert.That((image.Width, image.Height), Is.EqualTo((reference.Width, reference.Height)));
        AssertSameBytes(name, image.Pixels.ToArray(), reference.PilRgb());
    }

    /// <summary>The formats' variants that PIL's convert("RGB") handles in a way of its own, each by name.</summary>
    [TestCase("photo_q90.jpg", TestName = "JPEG 4:2:0")]
    [TestCase("photo_q90_422.jpg", TestName = "JPEG 4:2:2")]
    [TestCase("photo_q90_444.jpg", TestName = "JPEG 4:4:4")]
    [TestCase("photo_progressive.jpg", TestName = "JPEG progressive")]
    [TestCase("gray_q90.jpg", TestName = "JPEG grayscale")]
    [TestCase("cmyk_q90.jpg", TestName = "JPEG CMYK (Adobe inverted, PIL's naive conversion)")]
    [TestCase("rgba_257x181.png", TestName = "PNG RGBA (alpha dropped, transparent pixels keep their colour)")]
    [TestCase("palette_trns_150x150.png", TestName = "PNG palette with transparency")]
    [TestCase("palette_199x143.png", TestName = "PNG palette")]
    [TestCase("photo_500x375.png", TestName = "PNG RGB")]
    public void Format_variant_equals_PIL(string name) => Decoded_pixels_equal_PIL_convert_RGB(name);

    [Test]
    public void Gif_decodes_its_first_frame_only()
    {
        var reference = ReferenceImages.Get()["two_frames.gif"];
        using var image = ImageDecoder.Decode(reference.Path);
        Assert.That(ImageDecoder.DetectFormat(File.ReadAllBytes(reference.Path)), Is.EqualTo(ImageFormat.Gif));
        AssertSameBytes(reference.Name, image.Pixels.ToArray(), reference.PilRgb());
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(4)]
    [TestCase(5)]
    [TestCase(6)]
    [TestCase(7)]
    [TestCase(8)]
    public void Exif_orientation_is_left_as_stored_by_default_and_applied_on_request_like_exif_transpose(int orientation)
    {
        var reference = ReferenceImages.Get()[$"exif_o{orientation}_q90.jpg"];
        using (var stored = ImageDecoder.Decode(reference.Path))
        {
            Assert.That((stored.Width, stored.Height), Is.EqualTo((reference.Width, reference.Height)));
            AssertSameBytes(reference.Name, stored.Pixels.ToArray(), reference.PilRgb());
        }

        using var upright = ImageDecoder.Decode(reference.Path, new ImageDecoderOptions { ApplyExifOrientation = true });
        var (w, h) = orientation >= 5 ? (reference.Height, reference.Width) : (reference.Width, reference.Height);
        Assert.That((upright.Width, upright.Height), Is.EqualTo((w, h)));
        AssertSameBytes(reference.Name + " upright", upright.Pixels.ToArray(), reference.PilUprightRgb());
    }

    private static void AssertSameBytes(string name, byte[] actual, byte[] expected)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        var differing = 0;
        var maxDifference = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            var d = Math.Abs(expected[i] - actual[i]);
            if (d != 0) differing++;
            maxDifference = Math.Max(maxDifference, d);
        }

        TestContext.Out.WriteLine($"{name}: {differing} of {expected.Length} bytes differ, max {maxDifference}");
        Assert.That(actual, Is.EqualTo(expected), $"{differing} bytes differ from PIL, by at most {maxDifference}");
    }
}

/// <summary>The file names reference/vision_images.py writes (kept in step with its cases()), less the EXIF-oriented JPEGs.</summary>
internal static class ReferenceImageNames
{
    public static readonly string[] All =
    [
        "gradient_rgb.png", "noise_333x517.png", "photo_500x375.png", "photo_q90.jpg", "photo_q90_444.jpg",
        "photo_progressive.jpg", "noise_333x517_q90.jpg", "gradient_odd_q90.jpg", "gray_300x200.png", "gray_q90.jpg",
        "rgba_257x181.png", "la_190x250.png", "palette_199x143.png", "palette_trns_150x150.png", "bilevel_120x90.png",
        "small_97x61.png", "tall_50x700.png", "exact_224.png", "exact_256x300_q90.jpg", "cmyk_q90.jpg",
        "photo_q90_422.jpg", "photo_lossless.webp", "photo_q80.webp", "photo_rgba_lossless.webp", "photo_24bit.bmp",
        "palette_8bit.bmp", "two_frames.gif", "rgb16_61x43.png",
    ];
}
