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
        var expected = reference.PilRgb();
        var actual = image.Pixels.ToArray();
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

/// <summary>The file names reference/vision_images.py writes (kept in step with its cases()).</summary>
internal static class ReferenceImageNames
{
    public static readonly string[] All =
    [
        "gradient_rgb.png", "noise_333x517.png", "photo_500x375.png", "photo_q90.jpg", "photo_q90_444.jpg",
        "photo_progressive.jpg", "noise_333x517_q90.jpg", "gradient_odd_q90.jpg", "gray_300x200.png", "gray_q90.jpg",
        "rgba_257x181.png", "la_190x250.png", "palette_199x143.png", "palette_trns_150x150.png", "bilevel_120x90.png",
        "small_97x61.png", "tall_50x700.png", "exact_224.png", "exact_256x300_q90.jpg", "cmyk_q90.jpg",
    ];
}
