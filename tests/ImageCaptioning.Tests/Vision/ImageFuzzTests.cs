using ImageCaptioning.Synthetic;
using ImageCaptioning.Testing.Fuzzing;
using ImageCaptioning.Tests.Reliability;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Vision;

/// <summary>
/// Damaged JPEG and PNG files through the decoder the extractors use. Every outcome must be a decoded image or an
/// <see cref="ImageDecodeException"/> naming the file. PNG carries a CRC-32 per chunk and an Adler-32 over its pixels,
/// so a damaged PNG never decodes to other pixels; JPEG has no checksum, and damage in its entropy-coded data decodes
/// to other pixels in every decoder (those cases are counted, not failed).
/// </summary>
[TestFixture]
[Category(FuzzSettings.Category)]
public sealed class ImageFuzzTests
{
    private static readonly string[] Formats = ["jpeg", "png"];

    [TestCaseSource(nameof(Formats))]
    public void DamagedImagesDecodeOrFailWithTheFileNamed(string format)
    {
        const int Size = 24;
        using var pixels = RgbImage.FromPixels(Size, Size, Enumerable.Range(0, Size * Size * 3).Select(i => (byte)(i * 7 + i / 72 * 31)).ToArray());
        var original = format == "jpeg" ? JpegEncoder.Encode(pixels) : BadInputCatalogTests.PngOf(pixels);
        byte[] expected;
        using (var decoded = ImageDecoder.Decode(original, "original")) expected = decoded.Pixels.ToArray();

        var tally = new FuzzTally($"image {format}");
        foreach (var fuzzCase in FileMutations.Cases(original, FuzzSettings.CasesPerKind, FuzzSettings.Seed + Array.IndexOf(Formats, format)))
        {
            var name = $"{format}-{fuzzCase.Index}";
            tally.Run(fuzzCase, c =>
            {
                try
                {
                    using var image = ImageDecoder.Decode(c.Bytes, name);
                    return image.Width == Size && image.Height == Size && image.Pixels.SequenceEqual(expected) ? FuzzOutcome.Identical : FuzzOutcome.LoadedDifferent;
                }
                catch (ImageDecodeException e) when (!e.Message.Contains(name, StringComparison.Ordinal))
                {
                    Assert.Fail($"{fuzzCase}: the message does not name the image: {e.Message}");
                    throw;
                }
            }, [typeof(ImageDecodeException)], e => e.Message.Contains("CRC", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("checksum", StringComparison.OrdinalIgnoreCase));
        }
        tally.Report();
        if (format == "png") tally.AssertNothingLoadedDifferent();
    }
}
