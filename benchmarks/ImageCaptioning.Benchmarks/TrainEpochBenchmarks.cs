using BenchmarkDotNet.Attributes;
using ImageCaptioning.Data;
using ImageCaptioning.Modeling;
using ImageCaptioning.Text;
using ImageCaptioning.Training;

namespace ImageCaptioning.Benchmarks;

/// <summary>
/// One training epoch through <see cref="CaptionTrainer"/> (batch building, host-to-tensor copies, steps), with
/// batches built on the training thread (<see cref="CaptionTrainerOptions.PrefetchDepth"/> 0) or ahead by the
/// prefetcher: whether prefetching changes target tokens per second. The first <see cref="Images"/> images of the
/// Flickr8k-shaped corpus (4096-d features), full-sequence batches of 64, the recipe's model (embedding and hidden
/// 256). Setup prints the target tokens of an epoch; tokens per second is that over the time per operation.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("train-epoch")]
public class TrainEpochBenchmarks
{
    private const int Images = 40;
    private CaptionDataset dataset = null!;
    private LstmCaptionModel model = null!;

    [Params(0, 2)]
    public int PrefetchDepth { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var all = FlickrShapedCorpus.Captions();
        var kept = all.ImageIds.Take(Images).ToHashSet(StringComparer.Ordinal);
        var corpus = CaptionCorpus.Create(all.Entries().Where(e => kept.Contains(e.ImageId)));
        var tokenizer = WordTokenizer.Train(corpus.Entries().Select(e => e.Caption));
        dataset = CaptionDataset.Create(corpus, tokenizer, FlickrShapedCorpus.Features(corpus.ImageIds),
            new CaptionDatasetOptions { BatchSize = 64, Seed = 1, MaxLength = 31 });
        long tokens = 0;
        for (var i = 0; i < dataset.Count; i++)
        {
            using var batch = dataset[i];
            foreach (var target in batch.Targets)
                if (target != tokenizer.PadId) tokens++;
        }
        Console.WriteLine($"// batches per epoch: {dataset.Count}, target tokens per epoch: {tokens}");
        torch.manual_seed(0);
        model = CaptionModel.Create(new CaptionModelOptions
        {
            VocabularySize = tokenizer.VocabularySize, FeatureDimension = FlickrShapedCorpus.FeatureDimension, EmbeddingSize = 256, HiddenSize = 256,
            PadId = tokenizer.PadId,
        });
    }

    [GlobalCleanup]
    public void Cleanup() => model.Dispose();

    /// <summary>One epoch: a fresh trainer (Adam state included) trains the shared model once over the dataset.</summary>
    [Benchmark]
    public double Epoch()
    {
        using var trainer = new CaptionTrainer(model, new CaptionTrainerOptions { Epochs = 1, Seed = 1, PrefetchDepth = PrefetchDepth });
        return trainer.Train(dataset).History[0].TrainLoss;
    }
}
