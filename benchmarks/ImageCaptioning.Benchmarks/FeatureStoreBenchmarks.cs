using System.Runtime.InteropServices;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using ImageCaptioning.Features;

namespace ImageCaptioning.Benchmarks;

/// <summary>
/// What the feature store's row digests cost, on Flickr8k's shape (8,000 VGG16 fc7 rows of 4,096 floats: a 131 MB
/// features.npy, in the page cache). <see cref="Verify"/> (open, check every chunk, close) is compared with the floors a
/// full check cannot beat: reading the file once, and SHA-256 over the file. <see cref="Append"/> (64 rows, the commit
/// included: rows and ids written, digests extended, store.json replaced) is compared with writing the same bytes to
/// a plain file.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("store")]
public class FeatureStoreBenchmarks
{
    private const int Rows = 8_000;
    private const int Dimension = 4_096;
    private const int AppendRows = 64;
    private const int AppendsPerIteration = 32;
    private string root = null!;
    private string storeDirectory = null!;
    private float[] batch = null!;
    private string[] ids = null!;
    private FeatureStore? appending;
    private FileStream? plain;
    private int appended;

    /// <summary>Whether each append is flushed to the disk (fsync), as <see cref="FeatureStoreOptions.FlushToDisk"/>.</summary>
    [Params(false, true)]
    public bool FlushToDisk { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        root = Path.Combine(Path.GetTempPath(), $"store-bench-{Environment.ProcessId}");
        storeDirectory = Path.Combine(root, "flickr8k-fc7");
        batch = Enumerable.Range(0, AppendRows * Dimension).Select(i => (i % 997) * 0.01f).ToArray();
        ids = Enumerable.Range(0, Rows + AppendRows * AppendsPerIteration * 64).Select(i => $"{i:D6}_{i * 7919 % 100_000:D5}.jpg").ToArray();
        using var store = FeatureStore.OpenOrCreate(storeDirectory, Dimension, "vgg16-fc7", "Resize(224x224)", new FeatureStoreOptions { FlushToDisk = false });
        for (var first = 0; first < Rows; first += AppendRows) store.Append(ids[first..(first + AppendRows)], batch);
        Console.WriteLine($"// features.npy: {new FileInfo(Path.Combine(storeDirectory, FeatureStore.FeaturesFileName)).Length} bytes");
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(root, recursive: true);

    /// <summary>A full check of the 8,000 rows: open, <see cref="FeatureStore.Verify"/>, close.</summary>
    [Benchmark]
    public int Verify()
    {
        using var store = FeatureStore.Open(storeDirectory);
        store.Verify();
        return store.Count;
    }

    /// <summary>The floor of any full check: features.npy read once, in 1 MiB reads.</summary>
    [Benchmark]
    public long ReadFileOnce()
    {
        using var stream = new FileStream(Path.Combine(storeDirectory, FeatureStore.FeaturesFileName), FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        var buffer = new byte[1 << 20];
        long total = 0;
        int read;
        while ((read = stream.Read(buffer)) > 0) total += read;
        return total;
    }

    /// <summary>The floor of a SHA-256 check: one SHA-256 over features.npy.</summary>
    [Benchmark]
    public byte[] Sha256OfFile()
    {
        using var stream = new FileStream(Path.Combine(storeDirectory, FeatureStore.FeaturesFileName), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        return SHA256.HashData(stream);
    }

    [IterationSetup(Targets = [nameof(Append), nameof(WritePlainFile)])]
    public void StartAppending()
    {
        var directory = Path.Combine(root, "appending");
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        appending = FeatureStore.OpenOrCreate(directory, Dimension, "vgg16-fc7", "Resize(224x224)", new FeatureStoreOptions { FlushToDisk = FlushToDisk });
        plain = new FileStream(Path.Combine(root, "plain.bin"), FileMode.Create, FileAccess.Write, FileShare.None);
        appended = 0;
    }

    [IterationCleanup(Targets = [nameof(Append), nameof(WritePlainFile)])]
    public void StopAppending()
    {
        appending?.Dispose();
        plain?.Dispose();
    }

    /// <summary>One committed append of 64 rows (each iteration starts from an empty store).</summary>
    [Benchmark]
    [InvocationCount(AppendsPerIteration)]
    public void Append()
    {
        appending!.Append(ids.AsSpan(appended, AppendRows).ToArray(), batch);
        appended += AppendRows;
    }

    /// <summary>The same 64 rows written to a plain file and flushed alike: what an append costs without its commit.</summary>
    [Benchmark]
    [InvocationCount(AppendsPerIteration)]
    public void WritePlainFile()
    {
        plain!.Write(MemoryMarshal.AsBytes(batch.AsSpan()));
        plain.Flush(FlushToDisk);
    }
}
