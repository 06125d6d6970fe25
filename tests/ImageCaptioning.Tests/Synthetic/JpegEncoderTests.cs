using System.Text.Json;
using ImageCaptioning.Synthetic;
using ImageCaptioning.Testing;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Synthetic;

[TestFixture]
public sealed class JpegEncoderTests
{
    /// <summary>Smooth shading with a few sharp-edged shapes: photo-like content JPEG is meant for.</summary>
    private static byte[] TestPixels(int width, int height)
    {
        var pixels = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var o = ((y * width) + x) * 3;
                pixels[o] = (byte)(40 + (180 * x / Math.Max(1, width - 1)));
                pixels[o + 1] = (byte)(30 + (200 * y / Math.Max(1, height - 1)));
                pixels[o + 2] = (byte)(120 + (60 * Math.Sin((x + y) / 9.0)));
                if (Math.Pow(x - (width / 3.0), 2) + Math.Pow(y - (height / 2.0), 2) < Math.Pow(Math.Min(width, height) / 5.0, 2))
                    (pixels[o], pixels[o + 1], pixels[o + 2]) = (230, 220, 40);
            }
        return pixels;
    }

    private static double MeanAbsoluteDifference(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        Assert.That(a.Length, Is.EqualTo(b.Length));
        long sum = 0;
        for (var i = 0; i < a.Length; i++) sum += Math.Abs(a[i] - b[i]);
        return (double)sum / a.Length;
    }

    [TestCase(160, 96)]
    [TestCase(161, 97)]
    [TestCase(1, 1)]
    [TestCase(7, 300)]
    public void Encoded_image_decodes_to_the_same_size_and_close_pixels(int width, int height)
    {
        var pixels = TestPixels(width, height);

        var encoded = JpegEncoder.Encode(pixels, width, height, quality: 95);

        Assert.That(ImageDecoder.DetectFormat(encoded), Is.EqualTo(ImageFormat.Jpeg));
        using var decoded = ImageDecoder.Decode(encoded, "encoded");
        Assert.That((decoded.Width, decoded.Height), Is.EqualTo((width, height)));
        var difference = MeanAbsoluteDifference(decoded.Pixels, pixels);
        TestContext.Out.WriteLine($"{width}x{height} q95: {encoded.Length} bytes, mean |diff| {difference:F3}");
        Assert.That(difference, Is.LessThan(3.0));
    }

    [Test]
    public void Quality_trades_file_size_for_fidelity()
    {
        var pixels = TestPixels(200, 150);

        var low = JpegEncoder.Encode(pixels, 200, 150, quality: 20);
        var high = JpegEncoder.Encode(pixels, 200, 150, quality: 98);

        using var lowImage = ImageDecoder.Decode(low);
        using var highImage = ImageDecoder.Decode(high);
        Assert.That(high, Has.Length.GreaterThan(low.Length));
        Assert.That(MeanAbsoluteDifference(highImage.Pixels, pixels), Is.LessThan(MeanAbsoluteDifference(lowImage.Pixels, pixels)));
    }

    [Test]
    public void RgbImage_overload_encodes_the_same_bytes_as_the_span_overload()
    {
        var pixels = TestPixels(64, 48);
        using var image = RgbImage.FromPixels(64, 48, pixels);

        Assert.That(JpegEncoder.Encode(image, 80), Is.EqualTo(JpegEncoder.Encode(pixels, 64, 48, 80)));
    }

    [Test]
    public void Encoding_is_deterministic_and_thread_safe()
    {
        var pixels = TestPixels(120, 90);
        var expected = JpegEncoder.Encode(pixels, 120, 90);

        var results = new byte[16][];
        Parallel.For(0, results.Length, i => results[i] = JpegEncoder.Encode(pixels, 120, 90));

        Assert.That(results, Has.All.EqualTo(expected));
    }

    [Test]
    public void Save_writes_the_encoded_file_atomically_creating_the_folder()
    {
        using var temp = new TempDirectory();
        var path = Path.Combine(temp.Path, "nested", "image.jpg");
        var pixels = TestPixels(50, 40);

        JpegEncoder.Save(path, pixels, 50, 40, quality: 85);
        using (var image = RgbImage.FromPixels(50, 40, pixels))
            JpegEncoder.Save(temp.File("second.jpg"), image, quality: 85);

        Assert.That(File.ReadAllBytes(path), Is.EqualTo(JpegEncoder.Encode(pixels, 50, 40, 85)));
        Assert.That(File.ReadAllBytes(temp.File("second.jpg")), Is.EqualTo(File.ReadAllBytes(path)));
        Assert.That(Directory.GetFiles(temp.Path, "*", SearchOption.AllDirectories).Select(Path.GetFileName),
            Is.EquivalentTo(new[] { "image.jpg", "second.jpg" }), "no temporary file is left behind");
    }

    [Test]
    public void PIL_reads_our_file_as_a_baseline_420_JPEG_identical_to_its_own_encoding()
    {
        PythonReference.Require("PIL");
        using var temp = new TempDirectory();
        const int width = 161, height = 97, quality = 90;
        var pixels = TestPixels(width, height);
        var ours = temp.File("ours.jpg");
        JpegEncoder.Save(ours, pixels, width, height, quality);
        File.WriteAllBytes(temp.File("source.rgb"), pixels);

        using var report = JsonDocument.Parse(PythonReference.Run("jpeg_encoder.py",
            ours, temp.File("source.rgb"), $"{width}", $"{height}", $"{quality}", temp.Path));

        var info = report.RootElement.GetProperty("ours");
        var pil = report.RootElement.GetProperty("pil");
        Assert.Multiple(() =>
        {
            Assert.That(info.GetProperty("format").GetString(), Is.EqualTo("JPEG"));
            Assert.That(info.GetProperty("mode").GetString(), Is.EqualTo("RGB"));
            Assert.That((info.GetProperty("width").GetInt32(), info.GetProperty("height").GetInt32()), Is.EqualTo((width, height)));
            Assert.That(info.GetProperty("subsampling").GetInt32(), Is.EqualTo(2), "PIL's code for 4:2:0");
            Assert.That(info.GetProperty("progressive").GetBoolean(), Is.False);
            // Same quality scaling of the standard tables as libjpeg's jpeg_set_quality, which PIL calls.
            Assert.That(info.GetProperty("quantization").GetRawText(), Is.EqualTo(pil.GetProperty("quantization").GetRawText()));
        });

        var pilOfOurs = File.ReadAllBytes(temp.File("ours.rgb"));
        using var decoded = ImageDecoder.Decode(ours);
        Assert.That(pilOfOurs, Is.EqualTo(decoded.Pixels.ToArray()), "PIL and ImageDecoder decode our file identically");
        Assert.That(pilOfOurs, Is.EqualTo(File.ReadAllBytes(temp.File("pil.rgb"))),
            "our encoding decodes exactly like PIL's encoding of the same pixels with the same settings");
    }

    [Test]
    public void A_rendered_synthetic_scene_keeps_its_colours_through_encoding()
    {
        var scene = new SyntheticCaptionedImages(new SyntheticDatasetOptions { ImageCount = 1, ImageSize = 96 }).Describe()[0].Scene;
        using var rendered = scene.Render();

        using var decoded = ImageDecoder.Decode(JpegEncoder.Encode(rendered, quality: 95));

        Assert.That(MeanAbsoluteDifference(decoded.Pixels, rendered.Pixels), Is.LessThan(3.0));
    }

    [TestCase(0)]
    [TestCase(101)]
    public void Quality_outside_1_to_100_is_rejected(int quality)
    {
        var pixels = new byte[4 * 4 * 3];
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => JpegEncoder.Encode(pixels, 4, 4, quality));
        Assert.That(exception!.ParamName, Is.EqualTo("quality"));
    }

    [Test]
    public void Bad_dimensions_or_buffer_length_are_rejected_naming_the_argument()
    {
        var pixels = new byte[4 * 4 * 3];
        Assert.Multiple(() =>
        {
            Assert.That(() => JpegEncoder.Encode(pixels, 0, 4), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("width"));
            Assert.That(() => JpegEncoder.Encode(pixels, 4, -1), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("height"));
            Assert.That(() => JpegEncoder.Encode(pixels, 70000, 1), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("width"));
            Assert.That(() => JpegEncoder.Encode(pixels, 4, 5), Throws.ArgumentException.With.Property("ParamName").EqualTo("rgb").And.Message.Contains("4x5"));
            Assert.That(() => JpegEncoder.Save(" ", pixels, 4, 4), Throws.ArgumentException);
        });
    }

    [Test]
    public void A_disposed_image_cannot_be_encoded()
    {
        var image = RgbImage.FromPixels(2, 2, new byte[12]);
        image.Dispose();

        Assert.That(() => JpegEncoder.Encode(image), Throws.InstanceOf<ObjectDisposedException>());
    }
}
