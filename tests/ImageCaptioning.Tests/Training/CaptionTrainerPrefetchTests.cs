using ImageCaptioning.Data;
using ImageCaptioning.Training;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Training;

/// <summary>
/// Batches built ahead by the prefetcher are the batches built on demand: every depth trains to the same weights
/// (resuming a prefetched run is in <see cref="CaptionTrainerResumeTests"/>), and a batch that cannot be built fails
/// the run with the builder's own exception and stack.
/// </summary>
[TestFixture]
public sealed class CaptionTrainerPrefetchTests
{
    private static CaptionTrainerOptions Options(LossMode mode, int epochs, int depth) =>
        TinyCaptionTask.TrainerOptions(mode, epochs) with { PrefetchDepth = depth };

    private static (Dictionary<string, float[]> Weights, TrainingResult Result) Train(TinyCaptionTask task, LossMode mode, int depth)
    {
        using var model = task.Model();
        using var trainer = new CaptionTrainer(model, Options(mode, 2, depth));
        var result = trainer.Train(task.Dataset(TinyCaptionTask.DatasetMode(mode)), task.Dataset(TinyCaptionTask.DatasetMode(mode), seed: 9));
        return (TinyCaptionTask.Weights(model), result);
    }

    [TestCase(LossMode.FullSequence)]
    [TestCase(LossMode.Prefix)]
    public void EveryPrefetchDepthTrainsToTheSameWeights(LossMode mode)
    {
        var task = new TinyCaptionTask();
        var (expected, expectedResult) = Train(task, mode, depth: 0);
        foreach (var depth in new[] { 1, 4 })
        {
            var (weights, result) = Train(task, mode, depth);
            Assert.That(result.History.Select(e => (e.TrainLoss, e.ValidationLoss)),
                Is.EqualTo(expectedResult.History.Select(e => (e.TrainLoss, e.ValidationLoss))), $"depth {depth}");
            TinyCaptionTask.AssertSameWeights(weights, expected, $"the synchronous run (depth {depth})");
        }
    }

    [TestCase(0)]
    [TestCase(3)]
    public void ABatchThatCannotBeBuiltFailsTrainingWithTheBuildersStack(int depth)
    {
        var task = new TinyCaptionTask();
        var features = new FailingFeatures(task.Features, failAtRead: 30);
        var train = CaptionDataset.Create(task.Corpus, task.Tokenizer, features, new CaptionDatasetOptions { BatchSize = 8, Seed = 3 });
        using var model = task.Model();
        using var trainer = new CaptionTrainer(model, Options(LossMode.FullSequence, 1, depth));

        var error = Assert.Throws<IOException>(() => trainer.Train(train));

        Assert.That(error!.Message, Is.EqualTo("feature file unreadable"));
        Assert.That(error.StackTrace, Does.Contain(nameof(FailingFeatures.Read)).And.Contain(nameof(FailingFeatures)), "the stack where the batch failed");
    }

    /// <summary>Reads like another source until its n-th row read, which fails like a damaged file.</summary>
    private sealed class FailingFeatures(IFeatureSource inner, int failAtRead) : IFeatureSource
    {
        private int reads;

        public IReadOnlyList<string> ImageIds => inner.ImageIds;

        public int Dimension => inner.Dimension;

        public bool TryGetRow(string imageId, out int row) => inner.TryGetRow(imageId, out row);

        public void Read(int row, Span<float> destination)
        {
            if (Interlocked.Increment(ref reads) == failAtRead) throw new IOException("feature file unreadable");
            inner.Read(row, destination);
        }
    }
}
