using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Vision;

[TestFixture]
public sealed class ImageTransformParityTests
{
    private static IEnumerable<TestCaseData> Cases() =>
        from name in ReferenceImageNames.All
        from transform in new[] { "recipe224", "standard256crop224", "crop240x320", "resize160max200crop150" }
        select new TestCaseData(name, transform).SetArgDisplayNames(name, transform);

    private static ImageTransformOptions OptionsFor(string transform) => transform switch
    {
        "recipe224" => ImageTransformOptions.Recipe224,
        "standard256crop224" => ImageTransformOptions.Standard256Crop224,
        "crop240x320" => new ImageTransformOptions { CenterCrop = new ImageSize(320, 240) },
        "resize160max200crop150" => new ImageTransformOptions
        {
            Resize = ImageResize.ShorterSideTo(160, maxSize: 200),
            CenterCrop = new ImageSize(150, 150),
            Mean = [0.5f, 0.5f, 0.5f],
            Std = [0.25f, 0.3f, 0.35f],
        },
        _ => throw new ArgumentOutOfRangeException(nameof(transform)),
    };

    [TestCaseSource(nameof(Cases))]
    public void Transform_matches_torchvision_on_PIL_images(string name, string transform)
    {
        var reference = ReferenceImages.Get()[name];
        using var image = ImageDecoder.Decode(reference.Path);
        using var output = new ImageTransform(OptionsFor(transform)).Apply(image);

        Assert.That(output.shape, Is.EqualTo(reference.Transforms[transform].Shape));
        var expected = reference.TorchvisionOutput(transform);
        var actual = output.ToArray<float>();
        double max = 0, sum = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            var d = Math.Abs((double)expected[i] - actual[i]);
            max = Math.Max(max, d);
            sum += d;
        }

        var mean = sum / expected.Length;
        TestContext.Out.WriteLine($"{name} {transform}: max |diff| {max:G4}, mean {mean:G4}");
        // The resize is Pillow's own arithmetic and ToTensor/Normalize the same float32 operations: equal, not close.
        Assert.That(actual, Is.EqualTo(expected), $"max |diff| {max:G4}, mean {mean:G4}");
    }
}
