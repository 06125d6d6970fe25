using BenchmarkDotNet.Attributes;
using ImageCaptioning.Torch;
using ImageCaptioning.Vision;

namespace ImageCaptioning.Benchmarks;

/// <summary>
/// Feature extraction throughput, decoding included: VGG16 fc7 and ResNet-50 with random weights over Flickr-sized
/// JPEGs (500×375, made by benchmarks/reference/extract.py), the recipe's transform, batch 16. One operation is one
/// image, so images/s = 1 / mean. benchmarks/compare.py runs torchvision (extract.py) on the same images and threads.
/// </summary>
[BenchmarkCategory("extract")]
public class ExtractionBenchmarks
{
    private const int ImageCount = 32;

    private string[] images = null!;
    private string? ownedDirectory;
    private IFeatureExtractor vgg16 = null!, resnet50 = null!;

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
        var options = new FeatureExtractorOptions { Device = ImageCaptioning.Torch.Device.Parse(Device), BatchSize = 16 };
        vgg16 = Vgg16FeatureExtractor.CreateRandom(0, options: options);
        resnet50 = ResNet50FeatureExtractor.CreateRandom(0, options: options);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        vgg16.Dispose();
        resnet50.Dispose();
        if (ownedDirectory is not null) Directory.Delete(ownedDirectory, recursive: true);
    }

    /// <summary>VGG16 fc7 of 32 images (decode, transform, network, copy to the host); per image.</summary>
    [Benchmark(OperationsPerInvoke = ImageCount)]
    public float Vgg16() => Run(vgg16);

    /// <summary>ResNet-50 pooled features of 32 images; per image.</summary>
    [Benchmark(OperationsPerInvoke = ImageCount)]
    public float ResNet50() => Run(resnet50);

    private float Run(IFeatureExtractor extractor)
    {
        var sum = 0f;
        foreach (var batch in extractor.ExtractBatches(images)) sum += batch.Values.Span[0];
        return sum;
    }
}
