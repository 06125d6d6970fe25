using ImageCaptioning.Encoders;
using ImageCaptioning.Modeling;
using ImageCaptioning.Tests.Harness;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Encoders;

/// <summary>
/// ImageEncoders.Create rebuilds an encoder from the description a saved model records: the same description, shapes,
/// state_dict and frozen blocks, and after loading the saved state the same grid; bad descriptions name what is wrong.
/// The rebuilt encoders run in a child process (<see cref="ChildProcess"/>), so that a native fault fails the case.
/// </summary>
[TestFixture]
[Kernels]
public sealed class ImageEncodersTests
{
    private static readonly string[] EncoderNames =
        ["small-cnn defaults", "small-cnn with max-pool stages", "small-cnn without batch norm", "pretrained-cnn vgg16", "pretrained-cnn resnet50"];

    /// <summary>The encoder each of <see cref="EncoderNames"/> names (a child process gets the name, not the encoder).</summary>
    private static ImageEncoder Create(string name) => name switch
    {
        "small-cnn defaults" => new SmallCnnEncoder(),
        "small-cnn with max-pool stages" => new SmallCnnEncoder(new SmallCnnEncoderOptions { InputSize = 32, Widths = [4, 8], Downsampling = SmallCnnDownsampling.MaxPool }),
        "small-cnn without batch norm" => new SmallCnnEncoder(new SmallCnnEncoderOptions { InputSize = 24, Widths = [3, 5, 7], ConvolutionsPerStage = 3, BatchNorm = false }),
        "pretrained-cnn vgg16" => PretrainedCnnEncoder.Create(
            new PretrainedCnnEncoderOptions { Network = EncoderNetwork.Vgg16, TrainableBlocks = 2, InputSize = 48 }, CnnWeights.Random(3)),
        "pretrained-cnn resnet50" => PretrainedCnnEncoder.Create(new PretrainedCnnEncoderOptions { TrainableBlocks = 3, InputSize = 64 }, CnnWeights.Random(4)),
        _ => throw new ArgumentException($"no encoder named '{name}'", nameof(name)),
    };

    [TestCaseSource(nameof(EncoderNames))]
    public void DescriptionRebuildsTheSameEncoder(string encoder) =>
        ChildProcess.Run(typeof(ImageEncodersTests), nameof(Rebuild), [encoder]).AssertSucceeded();

    private static void Rebuild(string encoder)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(9);
        using var original = Create(encoder);
        var description = original.Description;
        using var rebuilt = ImageEncoders.Create(description);

        Assert.That(rebuilt.GetType(), Is.EqualTo(original.GetType()));
        Assert.That(rebuilt.Description.Kind, Is.EqualTo(description.Kind));
        Assert.That(rebuilt.Description.Settings, Is.EquivalentTo(description.Settings));
        Assert.That((rebuilt.InputDimension, rebuilt.Cells, rebuilt.Channels), Is.EqualTo((original.InputDimension, original.Cells, original.Channels)));
        var originalState = original.state_dict();
        var rebuiltState = rebuilt.state_dict();
        Assert.That(rebuiltState.Keys, Is.EqualTo(originalState.Keys));
        foreach (var (key, value) in originalState) Assert.That(rebuiltState[key].shape, Is.EqualTo(value.shape), key);
        Assert.That(rebuilt.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name),
            Is.EqualTo(original.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name)), "the same blocks train");

        // Loading the saved state gives the saved encoder.
        using (torch.no_grad())
            foreach (var (key, value) in rebuiltState) value.copy_(originalState[key]);
        original.eval();
        rebuilt.eval();
        var rows = torch.randn(2, original.InputDimension);
        using (torch.no_grad())
            Assert.That(rebuilt.forward(rows).data<float>().ToArray(), Is.EqualTo(original.forward(rows).data<float>().ToArray()));
    }

    [Test]
    public void AnUnknownKindNamesItAndTheKnownOnes()
    {
        var exception = Assert.Throws<ArgumentException>(() => ImageEncoders.Create(new ImageEncoderDescription("resnet101", new Dictionary<string, string>())))!;
        Assert.That(exception.Message, Does.Contain("'resnet101'").And.Contain("small-cnn, pretrained-cnn"));
        Assert.That(ImageEncoders.Kinds, Is.EqualTo(new[] { SmallCnnEncoder.Kind, PretrainedCnnEncoder.Kind }));
    }

    [TestCase("inputSize", null, "lacks the setting 'inputSize'")]
    [TestCase("depth", "3", "unknown setting 'depth'")]
    [TestCase("inputSize", "sixty-four", "'inputSize' = 'sixty-four', which is not an integer")]
    [TestCase("widths", "32;64", "'widths' = '32;64', which is not integers separated by commas")]
    [TestCase("batchNorm", "yes", "'batchNorm' = 'yes', which is not true or false")]
    [TestCase("widths", "32,0", "Widths needs at least one stage")]
    [TestCase("inputSize", "66", "InputSize must be a multiple of 2^3")]
    public void ABadSmallCnnSettingIsNamed(string key, string? value, string expected)
    {
        var settings = new Dictionary<string, string>(new SmallCnnEncoder().Description.Settings);
        if (value is null) settings.Remove(key);
        else settings[key] = value;
        var exception = Assert.Throws<ArgumentException>(() => ImageEncoders.Create(new ImageEncoderDescription(SmallCnnEncoder.Kind, settings)))!;
        Assert.That(exception.Message, Does.Contain("kind 'small-cnn'").And.Contain(expected));
    }

    [TestCase("network", "ResNet101", "'network' = 'ResNet101', which is not one of ResNet50, Vgg16")]
    [TestCase("network", "1", "'network' = '1', which is not one of ResNet50, Vgg16")]
    [TestCase("trainableBlocks", "6", "TrainableBlocks must be within [0, 5]")]
    [TestCase("inputSize", "100", "InputSize must be a multiple of 32 for ResNet50")]
    public void ABadPretrainedCnnSettingIsNamed(string key, string value, string expected)
    {
        var settings = new Dictionary<string, string> { ["network"] = "ResNet50", ["trainableBlocks"] = "1", ["inputSize"] = "224", [key] = value };
        var exception = Assert.Throws<ArgumentException>(() => ImageEncoders.Create(new ImageEncoderDescription(PretrainedCnnEncoder.Kind, settings)))!;
        Assert.That(exception.Message, Does.Contain("kind 'pretrained-cnn'").And.Contain(expected));
    }
}
