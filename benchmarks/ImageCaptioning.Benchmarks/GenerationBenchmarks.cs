using BenchmarkDotNet.Attributes;
using ImageCaptioning.Data;
using ImageCaptioning.Text;

namespace ImageCaptioning.Benchmarks;

/// <summary>
/// Batch generation on the Flickr8k-shaped corpus, batch 64: time per batch for the recipe's prefix expansion and
/// for full-sequence batches, with and without prefetch workers. benchmarks/reference/generation.py measures the
/// Python generators on the same corpus. Like the Python generator and a training loop, each operation continues one
/// endless stream of batches (<see cref="Sequence{TBatch}.RepeatForever"/> or
/// <see cref="SequenceExtensions.PrefetchForever{TBatch}"/>): epochs wrap and reshuffle inside the measurement, feature
/// rows come cold from the whole 132 MB store, and prefetch workers are not restarted for every operation.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("generation")]
public class GenerationBenchmarks
{
    private const int BatchesPerOperation = 256;
    private CaptionDataset dataset = null!;
    private IEnumerator<Batch> batches = null!;

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
        var stream = PrefetchWorkers > 0
            ? dataset.PrefetchForever(new PrefetchOptions { Workers = PrefetchWorkers, MaxQueueSize = 8 })
            : dataset.RepeatForever();
        batches = stream.GetEnumerator();
    }

    /// <summary>Stops the prefetch workers and returns queued batches.</summary>
    [GlobalCleanup]
    public void Cleanup() => batches.Dispose();

    /// <summary>The bytes a batch hands to the model: distinct feature rows, index, tokens, targets, lengths.</summary>
    public static long BatchBytes(Batch batch) =>
        batch.Features.Length * 4L + batch.FeatureIndex.Length * 8L + batch.Tokens.Length * 8L + batch.Targets.Length * 8L + batch.Lengths.Length * 8L;

    /// <summary>Time per batch (the operation takes the next 256 batches of the stream).</summary>
    [Benchmark(OperationsPerInvoke = BatchesPerOperation)]
    public long Batches()
    {
        long checksum = 0;
        for (var i = 0; i < BatchesPerOperation; i++)
        {
            batches.MoveNext();
            using var batch = batches.Current;
            checksum += batch.Targets[0];
        }
        return checksum;
    }
}
