using BenchmarkDotNet.Attributes;
using ImageCaptioning.Vision;

namespace ImageCaptioning.Benchmarks;

/// <summary>
/// Feature extraction throughput, decoding included: VGG16 fc7 and ResNet-50 with random weights over Flickr-sized
/// JPEGs (500×375, made by benchmarks/reference/extract.py), the recipe's transform, batch 16. One operation is one
/// image, so images/s = 1 / mean. benchmarks/compare.py runs torchvision (extract.py) on the same images and threads.
/// <see cref="TorchVisionVgg16"/> and <see cref="TorchVisionResNet50"/> are the second reference: TorchSharp's
/// TorchVision networks (<c>torchvision.models.vgg16()</c>, <c>resnet50()</c>) fed by the library's own decode,
/// transform and batching, and the library's extractors load the TorchVision networks' own (random) weights, so that only
/// the network code differs.
/// </summary>
[BenchmarkCategory("extract")]
public class ExtractionBenchmarks
{
    private const int ImageCount = 32;

    private string[] images = null!;
    private string? ownedDirectory, weightsDirectory;
    private IFeatureExtractor vgg16 = null!, resnet50 = null!;
    private FeatureExtractorOptions options = null!;
    private ImageTransform transform = null!;
    private torch.nn.Module<Tensor, Tensor> torchVisionVgg16 = null!, torchVisionResNet50 = null!;
    private torch.nn.Module[] torchVisionOwners = [];

    /// <summary>Where the networks run; "cuda" is only offered when a GPU is present.</summary>
    [ParamsSource(nameof(Devices))]
    public string Device { get; set; } = "cpu";

    /// <summary>The CPU, and CUDA when available (otherwise it is reported as skipped).</summary>
    public static IEnumerable<string> Devices()
    {
        yield return "cpu";
        if (torch.cuda.is_available()) yield return "cuda";
        else Console.WriteLine("ExtractionBenchmarks: Device=cuda skipped: no CUDA");
    }

    [GlobalSetup]
    public void Setup()
    {
        var directory = ReferenceScript.PrepareImages("extract.py", ImageCount, out ownedDirectory);

        images = Directory.GetFiles(directory, "*.jpg").Order(StringComparer.Ordinal).Take(ImageCount).ToArray();
        if (images.Length != ImageCount)
            throw new InvalidOperationException($"{directory} holds {images.Length} JPEGs; the benchmark needs {ImageCount}");
        options = new FeatureExtractorOptions { Device = new Device(Device), BatchSize = 16 };

        HandWritten.SameThreadsAsTheLibrary();
        transform = new ImageTransform(options.Transform);
        torch.manual_seed(0);
        // The recipe's classifier[6] = Identity() and fc = Identity(): TorchSharp's TorchVision keeps the layers
        // private and its Sequential cannot replace an item, so the networks are rebuilt from their registered
        // children without the last layer (the same modules and order as their forward). The originals own them.
        var vgg = torchvision.models.vgg16();
        var children = vgg.named_children().ToDictionary(c => c.name, c => (torch.nn.Module<Tensor, Tensor>)c.module);
        torchVisionVgg16 = torch.nn.Sequential(children["features"], children["avgpool"], torch.nn.Flatten(1), ((Sequential)children["classifier"])[..6]);
        var resnet = torchvision.models.resnet50();
        torchVisionResNet50 = torch.nn.Sequential(resnet.named_children().Where(c => c.name != "fc").Select(c => (torch.nn.Module<Tensor, Tensor>)c.module));
        torchVisionOwners = [vgg, resnet];
        // The library's networks get the very same weights: how fast a network runs depends on its values (random
        // deep networks drift into subnormal activations), so only like-for-like weights leave just the code to compare.
        vgg16 = Vgg16FeatureExtractor.FromFile(SaveWeights(vgg, "vgg16"), options);
        resnet50 = ResNet50FeatureExtractor.FromFile(SaveWeights(resnet, "resnet50"), options);
        foreach (var network in new[] { torchVisionVgg16, torchVisionResNet50 })
        {
            network.to(new Device(Device));
            network.eval();
        }
    }

    private string SaveWeights(torch.nn.Module network, string name)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"imagecaptioning-extract-weights-{Environment.ProcessId}");
        Directory.CreateDirectory(directory);
        weightsDirectory = directory;
        var path = Path.Combine(directory, name + ".safetensors");
        Safetensors.Save(path, network.state_dict());
        return path;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        vgg16.Dispose();
        resnet50.Dispose();
        foreach (var network in torchVisionOwners) network.Dispose();
        if (ownedDirectory is not null) Directory.Delete(ownedDirectory, recursive: true);
        if (weightsDirectory is not null) Directory.Delete(weightsDirectory, recursive: true);
    }

    /// <summary>VGG16 fc7 of 32 images (decode, transform, network, copy to the host); per image.</summary>
    [Benchmark(OperationsPerInvoke = ImageCount)]
    public float Vgg16() => Run(vgg16);

    /// <summary>ResNet-50 pooled features of 32 images; per image.</summary>
    [Benchmark(OperationsPerInvoke = ImageCount)]
    public float ResNet50() => Run(resnet50);

    /// <summary>Reference (b): TorchVision's VGG16 up to fc7, with the library's decode and transform; per image.</summary>
    [Benchmark(OperationsPerInvoke = ImageCount)]
    public float TorchVisionVgg16() => Run(torchVisionVgg16);

    /// <summary>Reference (b): TorchVision's ResNet-50 up to its pooled features, with the library's decode and transform; per image.</summary>
    [Benchmark(OperationsPerInvoke = ImageCount)]
    public float TorchVisionResNet50() => Run(torchVisionResNet50);

    // What FeatureExtractor does around its network: the same ordered, prefetching loader, eval mode without
    // gradients, and a copy of each batch's features to the host.
    private float Run(torch.nn.Module<Tensor, Tensor> network)
    {
        var loader = new ImageBatchLoader(images, transform, new ImageBatchLoaderOptions
        {
            BatchSize = options.BatchSize,
            DecodeThreads = options.DecodeThreads,
            PrefetchBatches = options.PrefetchBatches,
            Device = options.ResolveDevice(),
            Decoder = options.Decoder,
        });
        var sum = 0f;
        foreach (var batch in loader.Enumerate())
        {
            using (batch)
            {
                using var noGrad = torch.no_grad();
                using var scope = torch.NewDisposeScope();
                var features = network.call(batch.Images);
                var values = new float[features.numel()];
                features.contiguous().cpu().CopyTo<float>(values);
                sum += values[0];
            }
        }
        return sum;
    }

    private float Run(IFeatureExtractor extractor)
    {
        var sum = 0f;
        foreach (var batch in extractor.ExtractBatches(images)) sum += batch.Values.Span[0];
        return sum;
    }
}
