using System.Text.Json;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Data;
using ImageCaptioning.Tests.Harness;
using ImageCaptioning.Torch.Serialization;
using ImageCaptioning.Vision;
using Microsoft.Extensions.Logging;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Vision;

/// <summary>
/// Our extractors against torchvision: reference/vision_extractors.py builds VGG16 and ResNet-50 with random
/// weights (fixed seed), saves their state_dicts in both torch.save formats and computes torchvision's features of
/// images it makes with PIL. We load those files and extract from the same image files (our decoding and
/// preprocessing included) and from torchvision's own preprocessed tensors (the network alone). Every case that runs a
/// network does so in a child process (<see cref="ChildProcess"/>): a native fault in a convolution fails that case,
/// naming the signal, and the other cases still run.
/// </summary>
[TestFixture]
[Kernels]
[NonParallelizable]
public sealed class FeatureExtractorParityTests
{
    /// <summary>The bound: features equal within 1e-4, relative to their scale.</summary>
    private const double Tolerance = 1e-4;

    private static readonly FeatureExtractorOptions Cpu = new() { Device = torch.CPU, BatchSize = 2, DecodeThreads = 2 };

    private TempDirectory reference = null!;

    [OneTimeSetUp]
    public void RunReference()
    {
        PythonReference.Require("torch", "torchvision", "PIL", "numpy");
        reference = new TempDirectory();
        PythonReference.Run("vision_extractors.py", reference.Path);
    }

    // The VGG16 files are 530 MB each: delete them as soon as the fixture is done.
    [OneTimeTearDown]
    public void DeleteReference() => reference?.Dispose();

    /// <summary>Runs the static method <paramref name="method"/> in a child process, with the reference folder first.</summary>
    private void InChild(string method, object?[]? arguments = null, IReadOnlyDictionary<string, string?>? environment = null) =>
        ChildProcess.Run(typeof(FeatureExtractorParityTests), method, [reference.Path, .. arguments ?? []], environment).AssertSucceeded();

    private static string[] Images(string folder)
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "manifest.json")));
        return manifest.RootElement.GetProperty("images").EnumerateArray().Select(e => Path.Combine(folder, e.GetString()!)).ToArray();
    }

    private static float[] Expected(string folder, string name) => FeatureAssert.ReadFloats(Path.Combine(folder, name + ".f32"));

    private static Tensor Inputs(string folder) => torch.tensor(Expected(folder, "inputs"), [Images(folder).Length, 3, 224, 224]);

    private static void AssertMatchesTorchvision(string folder, FeatureExtractor extractor, string output, string what)
    {
        Assert.That(extractor.Device, Is.EqualTo(torch.CPU));
        var expected = Expected(folder, output);
        var dimension = extractor.Dimension;
        var images = Images(folder);

        // The network alone, on torchvision's own preprocessed tensors.
        using var inputs = Inputs(folder);
        using var forward = extractor.Forward(inputs);
        Assert.That(forward.shape, Is.EqualTo(new long[] { images.Length, dimension }));
        FeatureAssert.Close(forward.ToArray<float>(), expected, Tolerance, $"{what} from torchvision's tensors");

        // The whole pipeline from the files: decoding, preprocessing (in batches of 2 on worker threads), network.
        var extracted = extractor.Extract(images);
        Assert.That(extracted.Count, Is.EqualTo(images.Length));
        Assert.That(extracted.Sources, Is.EqualTo(images));
        Assert.That(extracted.Dimension, Is.EqualTo(dimension));
        for (var i = 0; i < images.Length; i++)
        {
            // Images 0 and 1 are 224×224, so Resize((224, 224)) is the identity for PIL and for us and the inputs
            // are equal. Image 2 is really resized: our antialiased resize may land one 8-bit level away from PIL's
            // on a few pixels (see ImageTransformParityTests), which moves the features by a few 1e-4.
            var tolerance = i < 2 ? Tolerance : 2e-3;
            FeatureAssert.Close(extracted.Row(i), expected.AsSpan(i * dimension, dimension), tolerance, $"{what} from {Path.GetFileName(images[i])}");
        }
    }

    [TestCase("zip")]
    [TestCase("legacy")]
    public void Vgg16_fc7_matches_torchvision(string format) => InChild(nameof(Vgg16Fc7), [format]);

    private static void Vgg16Fc7(string folder, string format)
    {
        using var extractor = Vgg16FeatureExtractor.FromFile(Path.Combine(folder, $"vgg16.{format}.pth"), Cpu);
        Assert.That((extractor.Name, extractor.Dimension), Is.EqualTo(("vgg16-fc7", 4096)));
        AssertMatchesTorchvision(folder, extractor, "vgg16_fc7", $"vgg16 fc7 ({format})");
    }

    [Test]
    public void Vgg16_conv5_3_matches_torchvision_features_30_channels_last() => InChild(nameof(Vgg16Conv5_3));

    private static void Vgg16Conv5_3(string folder)
    {
        using var extractor = Vgg16SpatialFeatureExtractor.FromFile(Path.Combine(folder, "vgg16.zip.pth"), Cpu);
        Assert.That((extractor.GridHeight, extractor.GridWidth, extractor.Dimension), Is.EqualTo((14, 14, 14 * 14 * 512)));
        AssertMatchesTorchvision(folder, extractor, "vgg16_conv5_3", "vgg16 conv5_3");
    }

    [Test]
    public void ResNet50_layer4_matches_torchvision_children_before_the_pool_channels_last() => InChild(nameof(ResNet50Layer4));

    private static void ResNet50Layer4(string folder)
    {
        using var extractor = ResNet50SpatialFeatureExtractor.FromFile(Path.Combine(folder, "resnet50.zip.pth"), Cpu);
        Assert.That((extractor.Name, extractor.GridHeight, extractor.GridWidth, extractor.CellChannels, extractor.Dimension),
            Is.EqualTo(("resnet50-layer4", 7, 7, 2048, 7 * 7 * 2048)));
        AssertMatchesTorchvision(folder, extractor, "resnet50_layer4", "resnet50 layer4");
    }

    [TestCase(FeatureNetwork.ResNet50Layer4, "resnet50-layer4", 7 * 7 * 2048)]
    [TestCase(FeatureNetwork.Vgg16Conv5_3, "vgg16-conv5_3", 14 * 14 * 512)]
    public void The_grid_networks_are_built_by_name(FeatureNetwork network, string name, int dimension) =>
        InChild(nameof(GridNetworkByName), [network, name, dimension]);

    private static void GridNetworkByName(string folder, FeatureNetwork network, string name, int dimension)
    {
        var path = Path.Combine(folder, network == FeatureNetwork.ResNet50Layer4 ? "resnet50.zip.pth" : "vgg16.zip.pth");
        using var extractor = FeatureNetworks.Create(network, CnnWeights.FromFile(path), Cpu, new ListLogger());
        Assert.That((extractor.Name, extractor.Dimension), Is.EqualTo((name, dimension)));
        using var inputs = Inputs(folder);
        using var features = extractor.Forward(inputs);
        FeatureAssert.Close(features.ToArray<float>(), Expected(folder, network == FeatureNetwork.ResNet50Layer4 ? "resnet50_layer4" : "vgg16_conv5_3"), Tolerance, name);
    }

    [Test]
    public void The_grid_extractors_refuse_a_transform_without_a_cell() =>
        ChildProcess.Run(typeof(FeatureExtractorParityTests), nameof(GridExtractorsRefuseATransformWithoutACell)).AssertSucceeded();

    private static void GridExtractorsRefuseATransformWithoutACell()
    {
        var tiny = Cpu with { Transform = new ImageTransformOptions { Resize = ImageResize.To(24, 24) } };
        var exception = Assert.Throws<ArgumentException>(() => ResNet50SpatialFeatureExtractor.CreateRandom(1, tiny).Dispose())!;
        Assert.That(exception.Message, Does.Contain("24x24").And.Contain("ResNet-50's layer4").And.Contain("at least 32x32"));
        tiny = Cpu with { Transform = new ImageTransformOptions { Resize = ImageResize.To(15, 40) } };
        exception = Assert.Throws<ArgumentException>(() => Vgg16SpatialFeatureExtractor.CreateRandom(1, tiny).Dispose())!;
        Assert.That(exception.Message, Does.Contain("VGG16's conv5_3").And.Contain("at least 16x16"));

        // Sides that 32 does not divide: each of the five halvings rounds up, as the strided convolutions do.
        using var odd = ResNet50SpatialFeatureExtractor.CreateRandom(1, Cpu with { Transform = new ImageTransformOptions { Resize = ImageResize.To(100, 70) } });
        Assert.That((odd.GridHeight, odd.GridWidth), Is.EqualTo((3, 4)));
        using var zeros = torch.zeros(1, 3, 70, 100);
        using var grid = odd.Forward(zeros);
        Assert.That(grid.shape, Is.EqualTo(new long[] { 1, 3 * 4 * 2048 }));
    }

    [TestCase("zip")]
    [TestCase("legacy")]
    public void ResNet50_pooled_features_match_torchvision(string format) => InChild(nameof(ResNet50Pooled), [format]);

    private static void ResNet50Pooled(string folder, string format)
    {
        using var extractor = ResNet50FeatureExtractor.FromFile(Path.Combine(folder, $"resnet50.{format}.pth"), Cpu);
        Assert.That((extractor.Name, extractor.Dimension), Is.EqualTo(("resnet50-avgpool", 2048)));
        AssertMatchesTorchvision(folder, extractor, "resnet50_pool", $"resnet50 ({format})");
    }

    [Test]
    public void Safetensors_weights_give_the_same_features()
    {
        using (var state = PthReader.ReadStateDict(reference.File("resnet50.zip.pth")))
            Safetensors.Save(reference.File("resnet50.safetensors"), state);
        InChild(nameof(SafetensorsWeights));
    }

    private static void SafetensorsWeights(string folder)
    {
        using var extractor = ResNet50FeatureExtractor.FromFile(Path.Combine(folder, "resnet50.safetensors"), Cpu);
        AssertMatchesTorchvision(folder, extractor, "resnet50_pool", "resnet50 (safetensors)");
    }

    [Test]
    public void Streams_give_the_features_of_their_files() => InChild(nameof(Streams));

    private static void Streams(string folder)
    {
        var images = Images(folder);
        using var extractor = ResNet50FeatureExtractor.FromFile(Path.Combine(folder, "resnet50.zip.pth"), Cpu);
        var streams = images.Select(p => (Stream)new MemoryStream(File.ReadAllBytes(p))).ToArray();
        try
        {
            var fromStreams = extractor.Extract(streams);
            Assert.That(fromStreams.Sources, Is.EqualTo(new[] { "stream 0", "stream 1", "stream 2" }));
            Assert.That(fromStreams.Values.ToArray(), Is.EqualTo(extractor.Extract(images).Values.ToArray()));
        }
        finally
        {
            foreach (var stream in streams) stream.Dispose();
        }
    }

    [Test]
    public void Progress_reports_every_batch_with_rate_and_eta() => InChild(nameof(Progress));

    private static void Progress(string folder)
    {
        using var extractor = ResNet50FeatureExtractor.FromFile(Path.Combine(folder, "resnet50.zip.pth"), Cpu);
        var reports = new List<ExtractionProgress>();
        extractor.Extract(Images(folder), new SynchronousProgress<ExtractionProgress>(reports.Add));
        Assert.That(reports.Select(r => (r.Done, r.Total)), Is.EqualTo(new[] { (2, 3), (3, 3) }));
        Assert.That(reports[^1].ImagesPerSecond, Is.GreaterThan(0));
        Assert.That(reports[^1].EstimatedRemaining, Is.EqualTo(TimeSpan.Zero));
        Assert.That(reports[0].EstimatedRemaining, Is.GreaterThan(TimeSpan.Zero));
    }

    [Test]
    public void Weights_of_another_network_list_the_problem_keys_and_name_the_file()
    {
        var path = reference.File("resnet50.zip.pth");
        var exception = Assert.Throws<StateDictMismatchException>(() => Vgg16FeatureExtractor.FromFile(path, Cpu).Dispose())!;
        Assert.That(exception.Message, Does.Contain(path).And.Contain("\"features.0.weight\"").And.Contain("\"conv1.weight\""));
    }

    [Test]
    public void Only_the_cut_off_head_is_ignored_every_other_key_is_strict()
    {
        using var state = PthReader.ReadStateDict(reference.File("resnet50.zip.pth"));
        var withExtra = reference.File("resnet50-extra.safetensors");
        using (var extra = torch.zeros([3]))
            Safetensors.Save(withExtra, new Dictionary<string, Tensor>(state) { ["fc.extra"] = extra });
        var exception = Assert.Throws<StateDictMismatchException>(() => ResNet50FeatureExtractor.FromFile(withExtra, Cpu).Dispose())!;
        Assert.That(exception.UnexpectedKeys, Is.EqualTo(new[] { "fc.extra" }));
        Assert.That(exception.Message, Does.Contain(withExtra));

        var missing = reference.File("resnet50-missing.safetensors");
        Safetensors.Save(missing, state.Where(kv => kv.Key != "layer4.2.bn3.running_var").ToDictionary());
        exception = Assert.Throws<StateDictMismatchException>(() => ResNet50FeatureExtractor.FromFile(missing, Cpu).Dispose())!;
        Assert.That(exception.MissingKeys, Is.EqualTo(new[] { "layer4.2.bn3.running_var" }));
    }

    [Test]
    public void Default_location_is_the_torch_hub_cache_and_accepts_the_older_resnet_name()
    {
        using var torchHome = new TempDirectory();
        var checkpoints = Path.Combine(torchHome.Path, "hub", "checkpoints");
        Directory.CreateDirectory(checkpoints);
        File.Copy(reference.File("resnet50.legacy.pth"), Path.Combine(checkpoints, "resnet50-19c8e357.pth"));
        InChild(nameof(DefaultLocation), [checkpoints], new Dictionary<string, string?> { ["TORCH_HOME"] = torchHome.Path });
    }

    private static void DefaultLocation(string folder, string checkpoints)
    {
        Assert.That(PretrainedWeights.HubCheckpointDirectory, Is.EqualTo(checkpoints));
        using var extractor = ResNet50FeatureExtractor.FromDefaultLocation(Cpu);
        using var inputs = Inputs(folder);
        using var features = extractor.Forward(inputs);
        FeatureAssert.Close(features.ToArray<float>(), Expected(folder, "resnet50_pool"), Tolerance, "resnet50 from the hub cache");
    }

    [Test]
    public void Missing_default_weights_say_which_file_where_and_how_to_get_it()
    {
        using var torchHome = new TempDirectory();
        using (new EnvironmentVariable("TORCH_HOME", torchHome.Path))
        {
            var expected = Path.Combine(torchHome.Path, "hub", "checkpoints", "vgg16-397923af.pth");
            var vgg = Assert.Throws<PretrainedWeightsNotFoundException>(() => Vgg16FeatureExtractor.FromDefaultLocation(Cpu).Dispose())!;
            Assert.That(vgg.ExpectedPaths, Is.EqualTo(new[] { expected }));
            Assert.That(vgg.FileName, Is.EqualTo(expected));
            Assert.That(vgg.Message, Does.Contain(expected).And.Contain("https://download.pytorch.org/models/vgg16-397923af.pth")
                .And.Contain("never downloads").And.Contain("TORCH_HOME"));

            var spatial = Assert.Throws<PretrainedWeightsNotFoundException>(() => Vgg16SpatialFeatureExtractor.FromDefaultLocation(Cpu).Dispose())!;
            Assert.That(spatial.ExpectedPaths, Is.EqualTo(new[] { expected }));

            var resnet = Assert.Throws<PretrainedWeightsNotFoundException>(() => ResNet50FeatureExtractor.FromDefaultLocation(Cpu).Dispose())!;
            Assert.That(resnet.Message, Does.Contain(Path.Combine(torchHome.Path, "hub", "checkpoints", "resnet50-0676ba61.pth"))
                .And.Contain("resnet50-19c8e357.pth").And.Contain("https://download.pytorch.org/models/resnet50-0676ba61.pth"));
        }
    }

    [Test]
    public void Without_TORCH_HOME_the_cache_is_under_XDG_CACHE_HOME_or_the_home_folder()
    {
        using (new EnvironmentVariable("TORCH_HOME", null))
        using (new EnvironmentVariable("XDG_CACHE_HOME", "/somewhere/cache"))
            Assert.That(PretrainedWeights.HubCheckpointDirectory, Is.EqualTo("/somewhere/cache/torch/hub/checkpoints"));
        using (new EnvironmentVariable("TORCH_HOME", null))
        using (new EnvironmentVariable("XDG_CACHE_HOME", null))
            Assert.That(PretrainedWeights.HubCheckpointDirectory, Is.EqualTo(
                Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "torch", "hub", "checkpoints")));
    }

    [Test]
    public void Random_weights_are_seeded_and_logged_as_a_warning() => InChild(nameof(RandomWeights));

    private static void RandomWeights(string folder)
    {
        var images = Images(folder);
        var logger = new ListLogger();
        using var first = ResNet50FeatureExtractor.CreateRandom(7, Cpu, logger);
        using var second = ResNet50FeatureExtractor.CreateRandom(7, options: Cpu);
        using var other = ResNet50FeatureExtractor.CreateRandom(8, options: Cpu);
        var a = first.Extract(images).Values.ToArray();
        Assert.That(second.Extract(images).Values.ToArray(), Is.EqualTo(a), "same seed, same features");
        Assert.That(other.Extract(images).Values.ToArray(), Is.Not.EqualTo(a), "another seed, other features");
        Assert.That(a.Any(v => v != 0), Is.True);
        Assert.That(logger.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message),
            Has.Some.Contains("RANDOM weights (seed 7)"));
    }

    [Test]
    public void Corrupt_image_stops_extraction_naming_its_path() => InChild(nameof(CorruptImage));

    private static void CorruptImage(string folder)
    {
        var images = Images(folder);
        var corrupt = Path.Combine(folder, "broken.jpg");
        File.WriteAllBytes(corrupt, File.ReadAllBytes(images[1])[..2000]);
        using var extractor = ResNet50FeatureExtractor.FromFile(Path.Combine(folder, "resnet50.zip.pth"), Cpu);
        var exception = Assert.Throws<ImageDecodeException>(() => extractor.Extract([images[0], corrupt]))!;
        Assert.That(exception.Message, Does.Contain(corrupt));
    }

    [Test]
    public void Cuda_features_match_torchvision_when_a_gpu_is_present()
    {
        if (!torch.cuda.is_available()) Assert.Ignore("no CUDA device");
        InChild(nameof(Cuda));
    }

    private static void Cuda(string folder)
    {
        var images = Images(folder);
        using var extractor = ResNet50FeatureExtractor.FromFile(Path.Combine(folder, "resnet50.zip.pth"), new FeatureExtractorOptions { BatchSize = 2 });
        Assert.That(extractor.Device.type, Is.EqualTo(DeviceType.CUDA), "the default device is CUDA when present");
        // cuDNN may use TF32 for convolutions, whose 10-bit mantissa bounds the agreement at about 1e-3.
        using var inputs = Inputs(folder);
        using var features = extractor.Forward(inputs);
        Assert.That(features.device.type, Is.EqualTo(DeviceType.CUDA));
        using var host = features.to(torch.CPU);
        FeatureAssert.Close(host.ToArray<float>(), Expected(folder, "resnet50_pool"), 1e-2, "resnet50 on CUDA");
        var extracted = extractor.Extract(images);
        FeatureAssert.Close(extracted.Row(0), Expected(folder, "resnet50_pool").AsSpan(0, 2048), 1e-2, "resnet50 on CUDA from a file");
    }
}

/// <summary>An IProgress that reports on the calling thread (Progress&lt;T&gt; posts asynchronously).</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

/// <summary>Sets an environment variable for a scope and restores it.</summary>
internal sealed class EnvironmentVariable : IDisposable
{
    private readonly string name;
    private readonly string? previous;

    public EnvironmentVariable(string name, string? value)
    {
        this.name = name;
        previous = Environment.GetEnvironmentVariable(name);
        Environment.SetEnvironmentVariable(name, value);
    }

    public void Dispose() => Environment.SetEnvironmentVariable(name, previous);
}
