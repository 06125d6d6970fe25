using System.Text.Json;
using System.Text.Json.Nodes;
using ImageCaptioning.Pretrained;
using ImageCaptioning.Pretrained.Blip;
using ImageCaptioning.Testing;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Pretrained.Blip;

/// <summary>
/// BLIP's image processor against PIL and image_processing_blip.py (through the reference): PIL's bicubic resize byte
/// for byte when shrinking, enlarging and both at once, then rescale (float64, stored as float32) and CLIP's
/// normalisation (float32), from the preprocessor_config.json a BLIP checkpoint ships.
/// </summary>
[TestFixture]
public sealed class BlipPreprocessingTests
{
    [TestCase(500, 300, 384, 384)]
    [TestCase(57, 43, 384, 384)]
    [TestCase(1000, 800, 96, 80)]
    [TestCase(37, 611, 64, 64)]
    [TestCase(384, 384, 384, 384)]
    public void BicubicResizeAndNormalisationMatchPil(int width, int height, int outWidth, int outHeight)
    {
        PythonReference.Require("PIL", "numpy", "torch");
        using var dir = new TempDirectory();
        var random = new Random(width * 31 + height);
        var bytes = new byte[width * height * 3];
        random.NextBytes(bytes);
        // Smooth regions as well as noise, so that the filter's negative lobes overshoot and must be clipped.
        for (var i = 0; i < bytes.Length / 2; i++) bytes[i] = (byte)((i / 3 % width) * 255 / Math.Max(1, width - 1));
        File.WriteAllBytes(dir.File("image.rgb"), bytes);
        var config = new JsonObject
        {
            ["do_convert_rgb"] = true, ["do_normalize"] = true, ["do_rescale"] = true, ["do_resize"] = true,
            ["image_mean"] = new JsonArray(0.48145466, 0.4578275, 0.40821073), ["image_std"] = new JsonArray(0.26862954, 0.26130258, 0.27577711),
            ["image_processor_type"] = "BlipImageProcessor", ["resample"] = 3, ["rescale_factor"] = 0.00392156862745098,
            ["size"] = new JsonObject { ["height"] = outHeight, ["width"] = outWidth },
        };
        File.WriteAllText(dir.File("preprocessor_config.json"), config.ToJsonString());
        var expected = JsonDocument.Parse(PythonReference.Run("blip_reference.py", "preprocess", dir.File("image.rgb"),
            width.ToString(System.Globalization.CultureInfo.InvariantCulture), height.ToString(System.Globalization.CultureInfo.InvariantCulture),
            dir.File("preprocessor_config.json"))).RootElement;

        using var image = RgbImage.FromPixels(width, height, bytes);
        using (var resized = PilResample.Bicubic(image, new ImageSize(outWidth, outHeight)))
        {
            var pil = expected.GetProperty("resized").GetProperty("data").EnumerateArray().Select(e => (byte)e.GetInt32()).ToArray();
            var ours = resized.Pixels.ToArray();
            var differing = ours.Zip(pil).Count(p => p.First != p.Second);
            Assert.That(differing, Is.Zero, $"bytes differing from PIL's BICUBIC resize, of {pil.Length}");
        }

        var processor = PretrainedImageProcessor.FromConfig(HubJson.Read(dir.File("preprocessor_config.json"), "image processor configuration"),
            BlipForConditionalGeneration.ClipMean, BlipForConditionalGeneration.ClipStd, PilFilter.Bicubic, new ImageSize(384, 384));
        Assert.That(processor.Filter, Is.EqualTo(PilFilter.Bicubic));
        using var pixels = processor.Apply([image]);
        TensorJson.AssertClose(expected.GetProperty("pixel_values"), pixels, "pixel values", rtol: 0, atol: 1e-6);
    }

    [Test]
    public void BlipDefaultsAreBicubicAndClipStatistics()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("preprocessor_config.json"), "{\"image_processor_type\": \"BlipImageProcessor\"}");
        var processor = PretrainedImageProcessor.FromConfig(HubJson.Read(dir.File("preprocessor_config.json"), "image processor configuration"),
            BlipForConditionalGeneration.ClipMean, BlipForConditionalGeneration.ClipStd, PilFilter.Bicubic, new ImageSize(384, 384));
        Assert.That((processor.Filter, processor.Size), Is.EqualTo((PilFilter.Bicubic, (ImageSize?)new ImageSize(384, 384))));
        Assert.That(processor.Mean, Is.EqualTo(new[] { 0.48145466f, 0.4578275f, 0.40821073f }));
        Assert.That(processor.Std, Is.EqualTo(new[] { 0.26862954f, 0.26130258f, 0.27577711f }));
    }
}
