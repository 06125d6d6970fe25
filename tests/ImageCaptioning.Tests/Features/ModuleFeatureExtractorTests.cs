using ImageCaptioning.Tests.Vision;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Features;

/// <summary>
/// A user's own TorchSharp module serves as an <see cref="IFeatureExtractor"/>: the library decodes, transforms and
/// batches, and the features are exactly the module's output on the transformed images.
/// </summary>
[TestFixture]
public sealed class ModuleFeatureExtractorTests
{
    // What a user might write: a small CNN from TorchSharp's building blocks, pooled to 8 values per image.
    private static torch.nn.Module<Tensor, Tensor> UserCnn()
    {
        torch.manual_seed(21);
        return torch.nn.Sequential(
            torch.nn.Conv2d(3, 8, 3, stride: 2, padding: 1),
            torch.nn.ReLU(),
            torch.nn.AdaptiveAvgPool2d(1),
            torch.nn.Flatten());
    }

    private static readonly FeatureExtractorOptions Options = new()
    {
        Transform = new ImageTransformOptions { Resize = ImageResize.To(32, 32) },
        Device = torch.CPU,
        BatchSize = 2,
    };

    [Test]
    public void FeaturesAreTheModulesOutputOnTheTransformedImages()
    {
        var images = ReferenceImages.Get().Entries.Select(e => e.Path).ToArray();
        using var reference = UserCnn();
        reference.eval();
        using var extractor = new ModuleFeatureExtractor(UserCnn(), "user-cnn-8", 8, Options);

        var extracted = extractor.ExtractBatches(images).SelectMany(b => Enumerable.Range(0, b.Count).Select(i => b.Row(i).ToArray())).ToList();

        Assert.That(extracted, Has.Count.EqualTo(images.Length));
        var transform = new ImageTransform(Options.Transform);
        using var noGrad = torch.no_grad();
        for (var i = 0; i < images.Length; i++)
        {
            using var input = transform.Apply(ImageDecoder.Decode(images[i])).unsqueeze(0);
            using var expected = reference.forward(input);
            Assert.That(extracted[i], Is.EqualTo(expected.ToArray<float>()).Within(1e-6f), images[i]);
        }
    }

    [Test]
    public void AModuleOfTheWrongWidthIsRefusedNamingTheExtractor()
    {
        using var extractor = new ModuleFeatureExtractor(UserCnn(), "user-cnn-8", 16, Options);
        using var images = torch.zeros(1, 3, 32, 32);

        var error = Assert.Throws<ArgumentException>(() => extractor.Forward(images).Dispose());

        Assert.That(error!.Message, Does.Contain("user-cnn-8").And.Contain("[1, 8]"));
    }
}
