using System.Text.Json;
using ImageCaptioning.Encoders;
using ImageCaptioning.Modeling;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Harness;
using ImageCaptioning.Tests.Vision;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Encoders;

/// <summary>
/// PretrainedCnnEncoder against torchvision (reference/vision_encoders.py): the same seeded ResNet-50 and VGG16
/// weights give the same eval-mode grids within 1e-4, and fine-tuning the last blocks as the tutorial does (the
/// others frozen and in eval mode) gives the same train-mode grids, gradients and batch-norm statistics. Those are
/// compared in float64, the encoder moved there: in float32 a ReLU input within rounding of zero turns a gradient
/// term on or off, and a batch has enough of them that the same network's gradients differ by whole terms. The cases
/// that run a network do so in a child process (<see cref="ChildProcess"/>), so that a native fault fails the case.
/// </summary>
[TestFixture]
[Kernels]
[NonParallelizable]
public sealed class PretrainedCnnEncoderTests
{
    /// <summary>The issue's bound for the CNNs: within 1e-4, relative to the values' scale.</summary>
    private const double Tolerance = 1e-4;

    /// <summary>The train-mode comparisons in float64: what is left is rounding, amplified by the batch norms over few cells.</summary>
    private const double Float64Tolerance = 1e-9;

    private const int Size = 64, Images = 2;

    private TempDirectory reference = null!;

    [OneTimeSetUp]
    public void RunReference()
    {
        PythonReference.Require("torch", "torchvision", "numpy");
        reference = new TempDirectory();
        PythonReference.Run("vision_encoders.py", "pretrained", reference.Path, Size.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [OneTimeTearDown]
    public void DeleteReference() => reference?.Dispose();

    /// <summary>Runs the static method <paramref name="method"/> in a child process, with the reference folder first.</summary>
    private void InChild(string method, params object[] arguments) =>
        ChildProcess.Run(typeof(PretrainedCnnEncoderTests), method, [reference.Path, .. arguments]).AssertSucceeded();

    private static JsonElement Manifest(string folder)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "manifest.json")));
        return document.RootElement.Clone();
    }

    private static float[] Expected(string folder, string name) => FeatureAssert.ReadFloats(Path.Combine(folder, name + ".f32"));

    private static double[] Expected64(string folder, string name) => FeatureAssert.ReadDoubles(Path.Combine(folder, name + ".f64"));

    private static string WeightsFile(string folder, EncoderNetwork network) =>
        Path.Combine(folder, network == EncoderNetwork.ResNet50 ? "resnet50.pth" : "vgg16_features.pth");

    private static string Stem(EncoderNetwork network) => network == EncoderNetwork.ResNet50 ? "resnet50" : "vgg16";

    private static PretrainedCnnEncoder Load(string folder, EncoderNetwork network, int trainableBlocks) =>
        PretrainedCnnEncoder.Create(new PretrainedCnnEncoderOptions { Network = network, TrainableBlocks = trainableBlocks, InputSize = Size },
            CnnWeights.FromFile(WeightsFile(folder, network)));

    private static Tensor Rows(string folder) => torch.tensor(Expected(folder, "inputs"), [Images, 3 * Size * Size]);

    // ResNet-50 fine-tunes layer3 and layer4 (2 blocks), VGG16 its conv5 block (1), as the reference does.
    [TestCase(EncoderNetwork.ResNet50, 2, 2048, 4)]
    [TestCase(EncoderNetwork.Vgg16, 1, 512, 16)]
    public void FineTuningMatchesTorchvision(EncoderNetwork network, int trainableBlocks, int channels, int cells) =>
        InChild(nameof(FineTuning), network, trainableBlocks, channels, cells);

    private static void FineTuning(string folder, EncoderNetwork network, int trainableBlocks, int channels, int cells)
    {
        using var scope = torch.NewDisposeScope();
        var stem = Stem(network);
        var manifest = Manifest(folder);
        using var encoder = Load(folder, network, trainableBlocks);
        Assert.That((encoder.InputDimension, encoder.Cells, encoder.Channels), Is.EqualTo((3 * Size * Size, cells, channels)));
        var rows = Rows(folder);
        using (var file = PthReader.ReadStateDict(WeightsFile(folder, network)))
            Assert.That(encoder.state_dict().Keys, Is.EquivalentTo(file.Keys.Where(k => !k.StartsWith("fc.", StringComparison.Ordinal)).Select(k => "network." + k)),
                "the torchvision keys under network., each once");

        encoder.eval();
        using (torch.no_grad())
        {
            var grid = encoder.forward(rows);
            Assert.That(grid.shape, Is.EqualTo(new long[] { Images, cells, channels }));
            FeatureAssert.Close(grid.data<float>().ToArray(), Expected(folder, stem + "_eval"), Tolerance, $"{stem} eval grid");
        }

        var trainable = manifest.GetProperty("trainable").GetProperty(stem).EnumerateArray().Select(e => "network." + e.GetString()).ToArray();
        var frozen = manifest.GetProperty("frozen").GetProperty(stem).EnumerateArray().Select(e => "network." + e.GetString()).ToArray();
        var parameters = encoder.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.That(parameters.Keys, Is.EquivalentTo(trainable.Concat(frozen)), "every parameter is trainable or frozen");
        Assert.That(parameters.Where(p => p.Value.requires_grad).Select(p => p.Key), Is.EquivalentTo(trainable), "requires_grad marks the last blocks");
        Assert.That(encoder.TrainableParameters(), Is.EquivalentTo(trainable.Select(name => parameters[name])));

        // Moving the encoder (to another dtype or device) keeps the frozen blocks frozen.
        encoder.to(ScalarType.Float64);
        parameters = encoder.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.That(parameters.Where(p => p.Value.requires_grad).Select(p => p.Key), Is.EquivalentTo(trainable), "requires_grad after the move");
        encoder.train();
        var trained = encoder.forward(rows.to(ScalarType.Float64));
        FeatureAssert.Close(trained.data<double>().ToArray(), Expected64(folder, stem + "_train"), Float64Tolerance, $"{stem} train grid");
        var upstream = torch.tensor(Expected(folder, "upstream_" + stem), trained.shape).to(ScalarType.Float64);
        trained.mul(upstream).sum().backward();
        foreach (var name in frozen) Assert.That(parameters[name].grad, Is.Null, $"{name} is frozen: no gradient");
        foreach (var name in trainable)
            FeatureAssert.Close(parameters[name].grad!.data<double>().ToArray(), Expected64(folder, $"grad/{stem}.{name["network.".Length..]}"), Float64Tolerance, $"gradient of {name}");

        // The frozen batch norms kept their statistics; the trainable ones moved as PyTorch's did.
        var buffers = encoder.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        foreach (var name in manifest.GetProperty("after").GetProperty(stem).EnumerateArray().Select(e => e.GetString()!))
            FeatureAssert.Close(buffers["network." + name].data<double>().ToArray(), Expected64(folder, $"{stem}.after.{name}"), Float64Tolerance, $"{name} after training");
    }

    [Test]
    public void FrozenBatchNormsStayInEvalModeWhenTheCaptionModelTrains()
    {
        using var model = new EncoderHolder(Load(reference.Path, EncoderNetwork.ResNet50, trainableBlocks: 1));
        model.train();
        var norms = model.named_modules().Where(m => m.module is BatchNorm2d).ToArray();
        Assert.That(norms, Has.Length.EqualTo(53));
        foreach (var (name, norm) in norms)
            Assert.That(norm.training, Is.EqualTo(name.StartsWith("encoder.network.layer4.", StringComparison.Ordinal)), name);
        Assert.That(model.encoder.training, Is.True);

        model.eval();
        Assert.That(norms.Select(n => n.module.training), Is.All.False);

        // The caption model's checkpoint carries the encoder's weights and statistics under "encoder.network.", each
        // with its torchvision key, once.
        using var torchvision = PthReader.ReadStateDict(WeightsFile(reference.Path, EncoderNetwork.ResNet50));
        var expected = torchvision.Keys.Where(k => !k.StartsWith("fc.", StringComparison.Ordinal)).Select(k => "encoder.network." + k)
            .Concat(["decoder.weight", "decoder.bias"]);
        Assert.That(model.state_dict().Keys, Is.EquivalentTo(expected));
    }

    [Test]
    public void AFrozenNetworkGivesTheGridExtractorsFeaturesAndNoGraph() => InChild(nameof(FrozenNetwork));

    private static void FrozenNetwork(string folder)
    {
        using var scope = torch.NewDisposeScope();
        foreach (var network in new[] { EncoderNetwork.ResNet50, EncoderNetwork.Vgg16 })
        {
            using var encoder = Load(folder, network, trainableBlocks: 0);
            Assert.That(encoder.TrainableParameters(), Is.Empty);
            encoder.train();
            Assert.That(encoder.modules().Where(m => m is BatchNorm2d or Sequential).Select(m => m.training), Is.All.False, $"{network}: nothing trains");
            var grid = encoder.forward(Rows(folder));
            Assert.That(grid.requires_grad, Is.False);

            var options = new FeatureExtractorOptions { Device = torch.CPU, Transform = new ImageTransformOptions { Resize = ImageResize.To(Size, Size) } };
            using GridFeatureExtractor extractor = network == EncoderNetwork.ResNet50
                ? ResNet50SpatialFeatureExtractor.FromFile(WeightsFile(folder, network), options)
                : Vgg16SpatialFeatureExtractor.FromFile(WeightsFile(folder, network), options);
            Assert.That((extractor.GridHeight * extractor.GridWidth, extractor.CellChannels), Is.EqualTo((encoder.Cells, encoder.Channels)));
            var rows = extractor.Forward(torch.tensor(Expected(folder, "inputs"), [Images, 3, Size, Size]));
            Assert.That(grid.reshape(Images, -1).data<float>().ToArray(), Is.EqualTo(rows.data<float>().ToArray()), $"{network}: the encoder's grid is the extractor's row");
        }
    }

    [Test]
    public void AllBlocksTrainWhenAskedTo()
    {
        using var encoder = Load(reference.Path, EncoderNetwork.Vgg16, trainableBlocks: 5);
        Assert.That(encoder.TrainableParameters().Count(), Is.EqualTo(26));
        Assert.That(encoder.parameters().All(p => p.requires_grad), Is.True);
    }

    [Test]
    public void OneAdamStepWithParameterGroupsMovesOnlyTheTrainableParameters() => InChild(nameof(OneAdamStep));

    private static void OneAdamStep(string folder)
    {
        using var scope = torch.NewDisposeScope();
        using var model = new EncoderHolder(Load(folder, EncoderNetwork.ResNet50, trainableBlocks: 1));
        const double DecoderRate = 1e-3, EncoderRate = 1e-5;
        var encoderParameters = model.encoder.TrainableParameters().ToArray();
        // The decoder's group is every parameter outside the encoder; the encoder's trainable ones get their own rate.
        var decoderParameters = model.named_parameters().Where(p => !p.name.StartsWith("encoder.", StringComparison.Ordinal)).Select(p => p.parameter).ToArray();
        using var optimizer = torch.optim.Adam([
            new Adam.ParamGroup(decoderParameters, lr: DecoderRate),
            new Adam.ParamGroup(encoderParameters, lr: EncoderRate),
        ]);
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());

        model.train();
        optimizer.zero_grad();
        model.Loss(Rows(folder)).backward();
        optimizer.step();

        var trainable = encoderParameters.Select(p => p.Handle).ToHashSet();
        foreach (var (name, parameter) in model.named_parameters())
        {
            using var change = parameter.detach().sub(before[name]).abs().max();
            var largest = change.ToDouble();
            if (name.StartsWith("decoder.", StringComparison.Ordinal))
                Assert.That(largest, Is.EqualTo(DecoderRate).Within(DecoderRate * 0.01), $"{name}: Adam's first step is the learning rate");
            else if (trainable.Contains(parameter.Handle))
                Assert.That(largest, Is.EqualTo(EncoderRate).Within(EncoderRate * 0.01), $"{name}: the encoder's own learning rate");
            else
                Assert.That(largest, Is.Zero, $"{name} is frozen");
        }
    }

    [Test]
    public void SettingsThatDoNotFitTheNetworkAreRefused()
    {
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new PretrainedCnnEncoderOptions { TrainableBlocks = 6 })!.ParamName, Is.EqualTo("TrainableBlocks"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new PretrainedCnnEncoderOptions { TrainableBlocks = -1 })!.ParamName, Is.EqualTo("TrainableBlocks"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new PretrainedCnnEncoderOptions { Network = (EncoderNetwork)7 })!.ParamName, Is.EqualTo("Network"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new PretrainedCnnEncoderOptions { InputSize = 8 })!.ParamName, Is.EqualTo("InputSize"));
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => PretrainedCnnEncoder.Create(new PretrainedCnnEncoderOptions { InputSize = 48 }, CnnWeights.Random(1)).Dispose())!;
        Assert.That(exception.Message, Does.Contain("multiple of 32 for ResNet50"));
        Assert.That(new PretrainedCnnEncoderOptions { Network = EncoderNetwork.Vgg16, InputSize = 48 }.Validate().GridSize, Is.EqualTo(3));
        var file = Assert.Throws<FileNotFoundException>(() => PretrainedCnnEncoder.Create(null, CnnWeights.FromFile(reference.File("absent.pth"))).Dispose())!;
        Assert.That(file.Message, Does.Contain("absent.pth"));
    }

    /// <summary>What a caption model is to its encoder: the parent whose <c>train()</c> reaches it, with a decoder beside it.</summary>
    private sealed class EncoderHolder : torch.nn.Module
    {
        public EncoderHolder(ImageEncoder encoder) : base(nameof(EncoderHolder))
        {
            this.encoder = encoder;
            decoder = torch.nn.Linear(encoder.Channels, 3);
            register_module("encoder", encoder);
            register_module("decoder", decoder);
        }

        public ImageEncoder encoder { get; }

        public Linear decoder { get; }

        public Tensor Loss(Tensor rows) => decoder.forward(encoder.forward(rows).mean([1])).square().sum();
    }
}
