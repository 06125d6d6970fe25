using BenchmarkDotNet.Attributes;
using ImageCaptioning.Data;
using ImageCaptioning.Text;

namespace ImageCaptioning.Benchmarks;

/// <summary>
/// Batch generation on the Flickr8k-shaped corpus, batch 64: time per batch for the recipe's prefix expansion and
/// for full-sequence batches, with and without prefetch workers. benchmarks/reference/generation.py measures the
/// Python generators on the same corpus.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("generation")]
public class GenerationBenchmarks
{
    private const int BatchesPerOperation = 256;
    private CaptionDataset dataset = null!;

    [Params(CaptionDatasetMode.PrefixExpansion, CaptionDatasetMode.FullSequence)]
    public CaptionDatasetMode Mode { get; set; }

    [Params(0, 2)]
    public int PrefetchWorkers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var corpus = FlickrShapedCorpus.Captions();
        var tokenizer = WordTokenizer.Train(corpus.Entries().Select(e => e.Caption));
        var features = FlickrShapedCorpus.Features(corpus.ImageIds);
        dataset = CaptionDataset.Create(corpus, tokenizer, features, new CaptionDatasetOptions { Mode = Mode, BatchSize = 64, Seed = 1, MaxLength = 31 });
        var bytes = 0L;
        var samples = 0L;
        for (var i = 0; i < 100; i++)
        {
            using var batch = dataset[i];
            bytes += BatchBytes(batch);
            samples += batch.SampleCount;
        }
        Console.WriteLine($"// bytes per batch: {bytes / 100}, samples per batch: {samples / 100.0:F1}");
    }

    /// <summary>The bytes a batch hands to the model: distinct feature rows, index, tokens, targets, lengths.</summary>
    public static long BatchBytes(Batch batch) =>
        batch.Features.Length * 4L + batch.FeatureIndex.Length * 8L + batch.Tokens.Length * 8L + batch.Targets.Length * 8L + batch.Lengths.Length * 8L;

    /// <summary>Time per batch (the operation builds 256 consecutive batches).</summary>
    [Benchmark(OperationsPerInvoke = BatchesPerOperation)]
    public long Batches()
    {
        long checksum = 0;
        var count = 0;
        IEnumerable<Batch> source = PrefetchWorkers > 0
            ? dataset.Prefetch(new PrefetchOptions { Workers = PrefetchWorkers, MaxQueueSize = 8 })
            : dataset;
        foreach (var batch in source)
        {
            checksum += batch.Targets[0];
            batch.Dispose();
            if (++count == BatchesPerOperation) break;
        }
        return checksum;
    }
}
