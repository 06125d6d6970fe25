using ImageCaptioning.Modeling;
using ImageCaptioning.Pipeline;
using ImageCaptioning.Tests.Training;
using ImageCaptioning.Text;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Persistence;

/// <summary>
/// Writes Fixtures/captioner-format1 with the code of commit 35c54f3 (Captioner.Save: a format-1 bundle, then
/// pipeline.json), and the captions the reloaded captioner gave then. Run once by hand; kept in history only.
/// </summary>
[TestFixture, Explicit("writes a committed fixture")]
public sealed class CaptionerFixtureWriter
{
    [Test]
    public void Write()
    {
        var target = Environment.GetEnvironmentVariable("FIXTURE_OUT") ?? throw new InvalidOperationException("set FIXTURE_OUT");
        var task = new TinyCaptionTask();
        var transform = ImageTransformOptions.Recipe224 with { Resize = ImageResize.To(32, 32) };
        torch.manual_seed(11);
        var model = CaptionModel.Create(task.ModelOptions(dropout: 0) with { FeatureDimension = ResNet50FeatureExtractor.FeatureDimension, EmbeddingSize = 4, HiddenSize = 2 });
        using (var scope = torch.NewDisposeScope())
        {
            // Sharpened so that the images' features, not near-ties, decide the words.
            const double scale = 30;
            using (torch.no_grad())
            {
                foreach (var key in new[] { "img_to_h.weight", "img_to_c.weight" }) model.state_dict()[key].mul_(scale);
                model.state_dict()["fc.weight"].mul_(8);
            }
        }
        model.eval();
        var bundle = new CaptionModelBundle(model, task.Tokenizer, DecodingOptions.Greedy with { MaxLength = 8 },
            new FeatureExtractorDescription("resnet50-avgpool", ResNet50FeatureExtractor.FeatureDimension, transform));
        var extractor = ResNet50FeatureExtractor.CreateRandom(5, new FeatureExtractorOptions { Transform = transform });
        var settings = new CaptionerSettings(FeatureNetwork.ResNet50, CnnWeights.Random(5), CaptionCleaningOptions.Default, ZeroImageFeatures: false);
        using var captioner = new Captioner(bundle, extractor, true, null, null, null, null, settings, null);
        captioner.Save(Path.Combine(target, "captioner-format1"));
        var written = CaptionerFixture.Images().Select(image => captioner.Caption(image.Pixels, image.Width, image.Height, image.Width * 3, RawPixelFormat.Rgb24)).ToArray();
        using var loaded = Captioner.Load(Path.Combine(target, "captioner-format1"));
        var reloaded = CaptionerFixture.Images().Select(image => loaded.Caption(image.Pixels, image.Width, image.Height, image.Width * 3, RawPixelFormat.Rgb24)).ToArray();
        Assert.That(reloaded, Is.EqualTo(written));
        File.WriteAllLines(Path.Combine(target, "captioner-format1.captions.txt"), reloaded);
    }
}
