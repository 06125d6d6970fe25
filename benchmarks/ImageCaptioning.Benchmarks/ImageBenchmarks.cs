using BenchmarkDotNet.Attributes;
using ImageCaptioning.Vision;

namespace ImageCaptioning.Benchmarks;

/// <summary>
/// Decode plus the recipe's eval transform (Resize((224, 224)) + ToTensor + Normalize), one image after another, over
/// 16 Flickr-sized JPEGs and 16 PNGs (500×375, made by benchmarks/reference/images.py). One operation is one image,
/// so images/s = 1 / mean. benchmarks/compare.py runs PIL + torchvision (images.py) on the same files and threads.
/// </summary>
[BenchmarkCategory("images")]
[MemoryDiagnoser]
public class ImageBenchmarks
{
    private const int ImageCount = 16;

    private readonly ImageTransform transform = new(ImageTransformOptions.Recipe224);
    private string[] jpegs = null!, pngs = null!;
    private string? ownedDirectory;

    [GlobalSetup]
    public void Setup()
    {
        var directory = ReferenceScript.PrepareImages("images.py", ImageCount, out ownedDirectory);

        jpegs = Files(directory, "*.jpg");
        pngs = Files(directory, "*.png");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (ownedDirectory is not null) Directory.Delete(ownedDirectory, recursive: true);
    }

    /// <summary>ImageDecoder.Decode + ImageTransform.Apply of a 500×375 JPEG (quality 90, 4:2:0); per image.</summary>
    [Benchmark(OperationsPerInvoke = ImageCount)]
    public float DecodeResizeJpeg() => Run(jpegs);

    /// <summary>The same for a 500×375 RGB PNG; per image.</summary>
    [Benchmark(OperationsPerInvoke = ImageCount)]
    public float DecodeResizePng() => Run(pngs);

    /// <summary>ImageDecoder.Decode alone of the JPEGs, to show which stage the time goes to; per image.</summary>
    [Benchmark(OperationsPerInvoke = ImageCount)]
    public float DecodeJpeg() => Run(jpegs, resize: false);

    /// <summary>ImageDecoder.Decode alone of the PNGs; per image.</summary>
    [Benchmark(OperationsPerInvoke = ImageCount)]
    public float DecodePng() => Run(pngs, resize: false);

    private float Run(string[] paths, bool resize = true)
    {
        var sum = 0f;
        foreach (var path in paths)
        {
            using var image = ImageDecoder.Decode(path);
            if (resize)
            {
                using var tensor = transform.Apply(image);
            }
            sum += image.Width;
        }
        return sum;
    }

    private static string[] Files(string directory, string pattern)
    {
        var files = Directory.GetFiles(directory, pattern).Order(StringComparer.Ordinal).Take(ImageCount).ToArray();
        return files.Length == ImageCount
            ? files
            : throw new InvalidOperationException($"{directory} holds {files.Length} files matching {pattern}; the benchmark needs {ImageCount}");
    }
}
