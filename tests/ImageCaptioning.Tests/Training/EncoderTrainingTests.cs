using ImageCaptioning.Data;
using ImageCaptioning.Encoders;
using ImageCaptioning.Modeling;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Harness;
using ImageCaptioning.Training;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Training;

/// <summary>
/// A trainable encoder inside the training graph: its parameters move at their own learning rate, and checkpoints
/// cover it (weights, batch-norm statistics and its Adam state), so a resumed run equals the uninterrupted one bit for bit.
/// </summary>
[TestFixture]
[Kernels]
public sealed class EncoderTrainingTests
{
    private const int Size = 8;

    private static (TinyCaptionTask Task, InMemoryFeatureSource Pixels) Task()
    {
        var task = new TinyCaptionTask();
        var random = new Random(17);
        var ids = task.Features.ImageIds;
        var pixels = Enumerable.Range(0, ids.Count * 3 * Size * Size).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        return (task, new InMemoryFeatureSource(ids, 3 * Size * Size, pixels));
    }

    private static CaptionDataset Dataset(TinyCaptionTask task, IFeatureSource pixels, int seed = 3, int batchSize = 8) =>
        CaptionDataset.Create(task.Corpus, task.Tokenizer, pixels, new CaptionDatasetOptions { BatchSize = batchSize, Seed = seed });

    private static SoftAttentionCaptionModel Model(TinyCaptionTask task, int seed = 11)
    {
        torch.manual_seed(seed);
        var encoder = new SmallCnnEncoder(new SmallCnnEncoderOptions { InputSize = Size, Widths = [4, 8] });
        return new SoftAttentionCaptionModel(new SoftAttentionOptions
        {
            VocabularySize = task.Tokenizer.VocabularySize, PadId = task.Tokenizer.PadId, FeatureDimension = 8, GridCells = 4,
            EmbeddingSize = 12, HiddenSize = 16, AttentionSize = 8, Dropout = 0.2,
        }, encoder);
    }

    private static CaptionTrainerOptions Options(int epochs, string? directory = null) =>
        TinyCaptionTask.TrainerOptions(LossMode.FullSequence, epochs, directory) with { EncoderLearningRate = 1e-3 };

    // Every floating-point tensor of the state, batch-norm running statistics included.
    private static Dictionary<string, float[]> State(CaptionModel model) => model.state_dict()
        .Where(pair => pair.Value.dtype == ScalarType.Float32).ToDictionary(pair => pair.Key, pair => pair.Value.ToArray<float>());

    [Test]
    public void TheEncoderMovesAtItsOwnLearningRate()
    {
        var (task, pixels) = Task();
        using var model = Model(task);
        var before = State(model);
        using var trainer = new CaptionTrainer(model, TinyCaptionTask.TrainerOptions(LossMode.FullSequence, 1) with { LearningRate = 5e-3, EncoderLearningRate = 1e-4, GradientClipNorm = null });
        var all = Dataset(task, pixels, batchSize: 64);
        Assert.That(all.Count, Is.EqualTo(1), "one Adam step");
        trainer.Train(all);
        var after = State(model);
        double Moved(Func<string, bool> which) => before.Keys.Where(k => which(k) && !k.Contains("running_", StringComparison.Ordinal))
            .Max(k => before[k].Zip(after[k], (a, b) => Math.Abs(a - b)).Max());
        // Adam's first step moves every parameter by at most about its learning rate.
        Assert.That(Moved(k => k.StartsWith("encoder.", StringComparison.Ordinal)), Is.InRange(1e-5, 1.01e-4), "the encoder at 1e-4");
        Assert.That(Moved(k => !k.StartsWith("encoder.", StringComparison.Ordinal)), Is.InRange(1e-3, 5.05e-3), "the decoder at 5e-3");
    }

    [Test]
    public void CancellationMidEpochThenResumeEqualsUninterrupted()
    {
        var (task, pixels) = Task();
        Dictionary<string, float[]> expected;
        using (var model = Model(task))
        using (var trainer = new CaptionTrainer(model, Options(2) with { PrefetchDepth = 0 }))
        {
            trainer.Train(Dataset(task, pixels), Dataset(task, pixels, seed: 9));
            expected = State(model);
        }

        using var dir = new TempDirectory();
        using (var cancellation = new CancellationTokenSource())
        using (var model = Model(task))
        {
            var progress = new SynchronousProgress<TrainingProgress>(p =>
            {
                if (p.Epoch == 2 && p.Step == 3) cancellation.Cancel();
            });
            using var trainer = new CaptionTrainer(model, Options(2, dir.Path), progress: progress);
            Assert.That(trainer.Train(Dataset(task, pixels), Dataset(task, pixels, seed: 9), cancellation.Token).StopReason, Is.EqualTo(TrainingStopReason.Cancelled));
        }
        torch.manual_seed(4242);
        using (var model = Model(task, seed: 5))
        using (var trainer = new CaptionTrainer(model, Options(2) with { ResumeFrom = dir.File("last.json") }))
        {
            trainer.Train(Dataset(task, pixels), Dataset(task, pixels, seed: 9));
            TinyCaptionTask.AssertSameWeights(State(model), expected);
        }
    }
}
