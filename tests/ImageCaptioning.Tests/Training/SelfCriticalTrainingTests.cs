using System.Text.Json.Nodes;
using ImageCaptioning.Data;
using ImageCaptioning.Modeling;
using ImageCaptioning.Pipeline;
using ImageCaptioning.Synthetic;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Data;
using ImageCaptioning.Text;
using ImageCaptioning.Training;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Training;

/// <summary>
/// Self-critical sequence training after the cross-entropy epochs: it raises held-out CIDEr-D on the synthetic scenes,
/// resumes bit for bit from the middle of a self-critical epoch, moves each sample's log-probability the way its
/// advantage says, keeps the live tensor count flat, and refuses settings that do not combine.
/// </summary>
[TestFixture]
public sealed class SelfCriticalTrainingTests
{
    private static readonly SelfCriticalOptions Tiny = new() { Epochs = 2, LearningRate = 1e-3, SamplesPerImage = 3, MaxLength = 10 };

    private static CaptionTrainerOptions Options(int epochs, SelfCriticalOptions? selfCritical, string? directory = null) =>
        TinyCaptionTask.TrainerOptions(LossMode.FullSequence, epochs, directory) with { SelfCritical = selfCritical };

    [Test]
    public void SelfCriticalEpochsRaiseHeldOutCiderDOverTheCrossEntropyResult()
    {
        // 500 one-object scenes, 350 of them trained on; the 100 test images are never seen.
        var task = new SceneCaptionTask(new SyntheticDatasetOptions { ImageCount = 500, MaxObjectCount = 1, Seed = 2 }, splitSeed: 2);
        using var dir = new TempDirectory();
        var crossEntropy = new CaptionTrainerOptions { Epochs = 10, LearningRate = 5e-3, GradientClipNorm = 1.0, Seed = 2, CheckpointDirectory = dir.Path };
        using var model = task.Model(seed: 2);
        using (var trainer = new CaptionTrainer(model, crossEntropy))
            trainer.Train(task.Dataset(task.Split.Train), task.Dataset(task.Split.Validation));
        var crossEntropyScore = task.CiderD(model, task.Split.Test);

        // The same run goes on from its last checkpoint with self-critical epochs, as a continued self-critical.pytorch run does.
        var selfCritical = new SelfCriticalOptions { Epochs = 5, LearningRate = 1e-3 };
        TrainingResult result;
        using (var trainer = new CaptionTrainer(model, crossEntropy with { SelfCritical = selfCritical }))
        {
            result = trainer.Train(task.Dataset(task.Split.Train), task.Dataset(task.Split.Validation));
            Assert.That(trainer.LearningRates, Is.EqualTo(new[] { 1e-3 }), "every group at the self-critical rate");
        }
        var selfCriticalScore = task.CiderD(model, task.Split.Test);

        // Checked over seeds 1 to 3: the margin is well inside the gain of each.
        Assert.That(selfCriticalScore, Is.GreaterThan(crossEntropyScore + 0.5), $"cross-entropy {crossEntropyScore:F3}, self-critical {selfCriticalScore:F3}");
        Assert.That(result.StopReason, Is.EqualTo(TrainingStopReason.Completed));
        Assert.That(result.History.Select(e => (e.Epoch, e.Phase)),
            Is.EqualTo(Enumerable.Range(1, 15).Select(e => (e, e <= 10 ? TrainingPhase.CrossEntropy : TrainingPhase.SelfCritical))));
        var sampled = result.History.Skip(10).ToArray();
        Assert.That(sampled.All(e => e is { MeanReward: > 0, MeanBaseline: > 0, MeanSampleLength: > 1, SamplesPerSecond: > 0, ValidationLoss: > 0, ValidationCiderD: > 0 }), Is.True);
        Assert.That(sampled[^1].MeanReward, Is.GreaterThan(sampled[0].MeanReward!.Value), "the samples earn more as training goes on");
        Assert.That(result.History.Take(10).All(e => e.MeanReward is null && e.ValidationCiderD is null), Is.True,
            "the cross-entropy epochs ran without self-critical training, so they recorded no CIDEr-D");
    }

    [TestCase(3, 2)]
    [TestCase(4, 1)]
    public void CancellationMidSelfCriticalEpochThenResumeEqualsUninterrupted(int cancelInEpoch, int cancelAtStep)
    {
        var task = new TinyCaptionTask();
        Dictionary<string, float[]> expected;
        TrainingResult expectedResult;
        using (var model = task.Model())
        using (var trainer = new CaptionTrainer(model, Options(2, Tiny) with { PrefetchDepth = 0 }))
        {
            expectedResult = trainer.Train(task.Dataset(), task.Dataset(seed: 9));
            expected = TinyCaptionTask.Weights(model);
        }
        Assert.That(expectedResult.History.Select(e => e.Phase),
            Is.EqualTo(new[] { TrainingPhase.CrossEntropy, TrainingPhase.CrossEntropy, TrainingPhase.SelfCritical, TrainingPhase.SelfCritical }));

        using var dir = new TempDirectory();
        using (var cancellation = new CancellationTokenSource())
        using (var model = task.Model())
        {
            var progress = new SynchronousProgress<TrainingProgress>(p =>
            {
                if (p.Epoch == cancelInEpoch && p.Step == cancelAtStep) cancellation.Cancel();
            });
            using var trainer = new CaptionTrainer(model, Options(2, Tiny, dir.Path), progress: progress);
            var cancelled = trainer.Train(task.Dataset(), task.Dataset(seed: 9), cancellation.Token);
            Assert.That(cancelled.StopReason, Is.EqualTo(TrainingStopReason.Cancelled));
            Assert.That((cancelled.EpochsCompleted, cancelled.StepInEpoch), Is.EqualTo((cancelInEpoch - 1, cancelAtStep)));
        }
        // Scramble libtorch's generator: the sampling must draw from the checkpoint's state.
        torch.manual_seed(4242);

        using (var model = task.Model(seed: 5))
        {
            var phases = new List<(int Epoch, int Step, TrainingPhase Phase)>();
            var progress = new SynchronousProgress<TrainingProgress>(p => phases.Add((p.Epoch, p.Step, p.Phase)));
            using var trainer = new CaptionTrainer(model, Options(2, Tiny) with { ResumeFrom = dir.Path }, progress: progress);
            var result = trainer.Train(task.Dataset(), task.Dataset(seed: 9));
            Assert.That(phases[0], Is.EqualTo((cancelInEpoch, cancelAtStep + 1, TrainingPhase.SelfCritical)), "the resumed run starts at the next step");
            TinyCaptionTask.AssertSameWeights(TinyCaptionTask.Weights(model), expected);
            Assert.That(result.History.Select(Measured), Is.EqualTo(expectedResult.History.Select(Measured)));
            Assert.That(result.BestEpoch, Is.EqualTo(expectedResult.BestEpoch));
            Assert.That(trainer.LearningRates, Is.EqualTo(new[] { Tiny.LearningRate }));
        }
    }

    [Test]
    public void TheBestEpochOfTheSelfCriticalEpochsIsJudgedByValidationCiderD()
    {
        var task = new TinyCaptionTask();
        using var dir = new TempDirectory();
        using var model = task.Model();
        using var trainer = new CaptionTrainer(model, Options(3, Tiny with { Epochs = 3 }, dir.Path));
        var result = trainer.Train(task.Dataset(), task.Dataset(seed: 9));

        // The rule on the recorded curve: the lowest validation loss among cross-entropy epochs, then any later epoch whose CIDEr-D beats the best one's.
        var history = result.History;
        Assert.That(history.All(e => e.ValidationCiderD is not null), Is.True, "a self-critical run records CIDEr-D in every epoch");
        var best = history.Where(e => e.Phase == TrainingPhase.CrossEntropy).MinBy(e => e.ValidationLoss)!;
        foreach (var epoch in history.Where(e => e.Phase == TrainingPhase.SelfCritical))
            if (epoch.ValidationCiderD > best.ValidationCiderD) best = epoch;
        Assert.That(result.BestEpoch, Is.EqualTo(best.Epoch));
        var checkpoint = JsonNode.Parse(File.ReadAllText(dir.File("best.json")))!;
        Assert.That(checkpoint["epoch"]!.GetValue<int>(), Is.EqualTo(best.Epoch), "the best checkpoint holds the best epoch");
        Assert.That(JsonNode.Parse(File.ReadAllText(dir.File("last.json")))!["selfCriticalStartEpoch"]!.GetValue<int>(), Is.EqualTo(3));
    }

    [Test]
    public void AnExhaustedPatienceEndsTheCrossEntropyEpochsAndEverySelfCriticalEpochRuns()
    {
        var task = new TinyCaptionTask();
        // Validation captions unrelated to the training ones: the validation loss falls, then rises as the model overfits.
        var unrelated = new TinyCaptionTask(seed: 2);
        CaptionDataset Validation() => CaptionDataset.Create(unrelated.Corpus, task.Tokenizer, unrelated.Features, new CaptionDatasetOptions { BatchSize = 8 });
        var options = Options(40, Tiny) with { LearningRate = 0.03, Patience = 2 };
        using var model = task.Model();
        var logger = new ListLogger();
        using var trainer = new CaptionTrainer(model, options, logger);
        var result = trainer.Train(task.Dataset(), Validation());

        var crossEntropy = result.History.Count(e => e.Phase == TrainingPhase.CrossEntropy);
        Assert.That(crossEntropy, Is.LessThan(40), "early stopping ended the cross-entropy epochs");
        Assert.That(result.History.Skip(crossEntropy).Select(e => e.Phase), Is.EqualTo(new[] { TrainingPhase.SelfCritical, TrainingPhase.SelfCritical }));
        Assert.That(result.StopReason, Is.EqualTo(TrainingStopReason.Completed));
        Assert.That(logger.Entries.Count(e => e.Message.Contains("early stopping ended the cross-entropy epochs", StringComparison.Ordinal)), Is.EqualTo(1));
    }

    [Test]
    public void ASampleThatBeatsItsBaselineGainsLogProbabilityAndOneThatLosesToItLoses()
    {
        // A batch of one image, so that its greedy caption and one sample (K = 1) are the whole batch: the loss is
        // -(reward - baseline) * log p(sample) / steps, and a small gradient step moves log p by the advantage's sign.
        var task = new TinyCaptionTask();
        var train = task.Dataset();
        var oneImage = task.Dataset(corpus: task.Corpus.Subset([task.Corpus.ImageIds[0]]));
        using var model = task.Model(dropout: 0);
        using (var fit = new CaptionTrainer(model, TinyCaptionTask.TrainerOptions(LossMode.FullSequence, 30) with { LearningRate = 0.02 }))
            fit.Train(train);
        var selfCritical = new SelfCriticalOptions { Epochs = 1, SamplesPerImage = 1, MaxLength = 10, Baseline = SelfCriticalBaseline.Greedy };
        using var trainer = new CaptionTrainer(model, TinyCaptionTask.TrainerOptions(LossMode.FullSequence, 1) with { SelfCritical = selfCritical });
        var references = SelfCriticalReferences.Collect(train);
        var parameters = model.parameters().ToArray();

        var seen = new List<int>();
        for (var draw = 0; draw < 60; draw++)
        {
            torch.manual_seed(draw);
            using var scope = torch.NewDisposeScope();
            using var batch = oneImage[0];
            using var features = torch.tensor(batch.Features.ToArray(), [1, TinyCaptionTask.Dimension]);
            var sample = trainer.SelfCriticalLossOf(batch, references);
            var advantage = sample.Rewards[0] - sample.Baselines[0];
            if (advantage == 0) continue;
            var caption = sample.Sequences.Captions[0];
            var finished = sample.Sequences.Finished[0];
            var before = LogProbability(model, features, caption, finished, task.Tokenizer);
            Assert.That(sample.Loss.item<float>(), Is.EqualTo(-advantage * before / sample.Sequences.Lengths[0]).Within(1e-4),
                "the loss weighs the sampled tokens' log-probabilities by the advantage");

            var saved = parameters.Select(p => p.detach().clone()).ToArray();
            foreach (var p in parameters) p.grad?.zero_();
            sample.Loss.backward();
            using (torch.no_grad())
                foreach (var p in parameters)
                    if (p.grad is { } grad) p.sub_(grad.mul(1e-4));
            var after = LogProbability(model, features, caption, finished, task.Tokenizer);
            using (torch.no_grad())
                for (var i = 0; i < parameters.Length; i++) parameters[i].copy_(saved[i]);

            Assert.That(Math.Sign(after - before), Is.EqualTo(Math.Sign(advantage)),
                $"draw {draw}: reward {sample.Rewards[0]:F3} against baseline {sample.Baselines[0]:F3}, log p {before:F5} -> {after:F5}");
            seen.Add(Math.Sign(advantage));
        }
        Assert.That(seen.Distinct(), Is.EquivalentTo(new[] { 1, -1 }), "samples both better and worse than the greedy caption were drawn");
    }

    [Test]
    public void LiveTensorsStayFlatOverSelfCriticalSteps()
    {
        var task = new TinyCaptionTask();
        var train = task.Dataset();
        var validation = task.Dataset(seed: 9);
        using var model = task.Model();
        using (var warm = new CaptionTrainer(model, Options(1, Tiny with { Epochs = 1 })))
            warm.Train(train, validation);
        var before = Tensor.TotalCount;
        var counts = new List<long>();
        var progress = new SynchronousProgress<TrainingProgress>(p =>
        {
            if (p.Phase == TrainingPhase.SelfCritical) counts.Add(Tensor.TotalCount);
        });
        using (var trainer = new CaptionTrainer(model, Options(1, Tiny with { Baseline = SelfCriticalBaseline.MeanOfOtherSamples }), progress: progress))
        {
            trainer.Train(train, validation);
            // Live tensors: the optimiser's two moments per parameter, nothing from the steps.
            Assert.That(Tensor.TotalCount - before, Is.EqualTo(2 * model.parameters().Count()));
        }
        Assert.That(counts, Has.Count.EqualTo(2 * train.Count));
        Assert.That(counts.Distinct(), Has.Exactly(1).Items, "every self-critical step leaves as many live tensors as the one before");
        Assert.That(Tensor.TotalCount, Is.EqualTo(before));
    }

    [Test]
    public void SettingsThatDoNotCombineAreRefusedNamingThem()
    {
        var task = new TinyCaptionTask();
        using var model = task.Model();
        void Expect(CaptionTrainerOptions options, CaptionModel on, params string[] words)
        {
            var error = Assert.Throws<ArgumentException>(() => new CaptionTrainer(on, options).Dispose());
            Assert.That(error!.Message, Does.Contain("SelfCritical"));
            foreach (var word in words) Assert.That(error.Message, Does.Contain(word));
        }
        var prefix = TinyCaptionTask.TrainerOptions(LossMode.Prefix, 1) with { SelfCritical = Tiny };
        Expect(prefix, model, "Mode", "FullSequence", "Prefix");
        Assert.That(Assert.Throws<ArgumentException>(() => new CaptionTrainer(model, prefix))!.ParamName, Is.EqualTo("SelfCritical"));
        Expect(Options(1, Tiny with { SamplesPerImage = 1, Baseline = SelfCriticalBaseline.MeanOfOtherSamples }), model, "SamplesPerImage", "MeanOfOtherSamples");

        using var transformer = new TransformerCaptionModel(new TransformerCaptionOptions
        {
            VocabularySize = task.Tokenizer.VocabularySize, FeatureDimension = 8, GridCells = 2, ModelDimension = 8, Heads = 2, Layers = 1,
            FeedForwardSize = 16, MaxPositions = 12, PadId = task.Tokenizer.PadId,
        });
        Expect(Options(1, Tiny with { MaxLength = 13 }), transformer, "MaxLength", "12 learned positions");
        new CaptionTrainer(transformer, Options(1, Tiny with { MaxLength = 12 })).Dispose();
    }

    [Test]
    public void ACheckpointBindsTheSelfCriticalSettingsOnlyOnceTheyBegan()
    {
        var task = new TinyCaptionTask();
        using var dir = new TempDirectory();
        using (var model = task.Model())
        using (var cancellation = new CancellationTokenSource())
        {
            var progress = new SynchronousProgress<TrainingProgress>(p =>
            {
                if (p.Phase == TrainingPhase.SelfCritical) cancellation.Cancel();
            });
            using var trainer = new CaptionTrainer(model, Options(1, Tiny, dir.Path), progress: progress);
            trainer.Train(task.Dataset(), null, cancellation.Token);
        }
        using var other = task.Model();
        using (var changed = new CaptionTrainer(other, Options(1, Tiny with { LearningRate = 2e-3 }, dir.Path)))
        {
            var error = Assert.Throws<CheckpointMismatchException>(() => changed.Train(task.Dataset()));
            Assert.That(error!.Message, Does.Contain("SelfCritical.LearningRate = 0.001").And.Contain("0.002"));
        }
        using (var off = new CaptionTrainer(other, Options(1, null, dir.Path)))
        {
            var error = Assert.Throws<CheckpointMismatchException>(() => off.Train(task.Dataset()));
            Assert.That(error!.Message, Does.Contain("SelfCritical.").And.Contain("the options do not set it"));
        }

        // Cancelled after the last cross-entropy step, before any self-critical one: other self-critical settings do
        // not bind it (nor does a checkpoint that recorded none, which the synthetic-scene test continues).
        using var crossEntropyDir = new TempDirectory();
        var steps = task.Dataset().Count;
        using (var model = task.Model())
        using (var cancellation = new CancellationTokenSource())
        {
            var progress = new SynchronousProgress<TrainingProgress>(p =>
            {
                if (p.Step == steps) cancellation.Cancel();
            });
            using var trainer = new CaptionTrainer(model, Options(1, Tiny with { LearningRate = 3e-3 }, crossEntropyDir.Path), progress: progress);
            Assert.That(trainer.Train(task.Dataset(), null, cancellation.Token).StopReason, Is.EqualTo(TrainingStopReason.Cancelled));
        }
        using (var resumed = new CaptionTrainer(other, Options(1, Tiny, crossEntropyDir.Path)))
        {
            var result = resumed.Train(task.Dataset());
            Assert.That(result.History.Select(e => e.Phase), Is.EqualTo(new[] { TrainingPhase.CrossEntropy, TrainingPhase.SelfCritical, TrainingPhase.SelfCritical }));
        }
        var recorded = JsonNode.Parse(File.ReadAllText(crossEntropyDir.File("last.json")))!["options"]!;
        Assert.That(recorded["SelfCritical.LearningRate"]!.GetValue<string>(), Is.EqualTo("0.001"), "the checkpoint records what the run went on with");
    }

    [Test]
    public void AnEncoderKeepsItsLearningRateRatioInTheSelfCriticalEpochs()
    {
        var task = new TinyCaptionTask();
        using var model = new SoftAttentionCaptionModel(new SoftAttentionOptions
        {
            VocabularySize = task.Tokenizer.VocabularySize, FeatureDimension = 4, GridCells = 3, EmbeddingSize = 8, HiddenSize = 8, AttentionSize = 8,
            PadId = task.Tokenizer.PadId,
        }, new LinearGridEncoder(TinyCaptionTask.Dimension, cells: 3, channels: 4));
        var options = Options(1, Tiny with { Epochs = 1, LearningRate = 5e-5 }) with { LearningRate = 1e-3, EncoderLearningRate = 1e-4 };
        var rates = new List<(TrainingPhase, double[])>();
        CaptionTrainer? trainer = null;
        var progress = new SynchronousProgress<TrainingProgress>(p => rates.Add((p.Phase, [.. trainer!.LearningRates])));
        using (trainer = new CaptionTrainer(model, options, progress: progress))
            trainer.Train(task.Dataset());
        Assert.That(rates.First(r => r.Item1 == TrainingPhase.CrossEntropy).Item2, Is.EqualTo(new[] { 1e-3, 1e-4 }));
        Assert.That(rates.First(r => r.Item1 == TrainingPhase.SelfCritical).Item2, Is.EqualTo(new[] { 5e-5, 5e-5 * (1e-4 / 1e-3) }));
    }

    [Test]
    public void ThePipelinePassesTheSelfCriticalSettingsToTheTrainer()
    {
        using var dir = new TempDirectory();
        var data = new SyntheticCaptionedImages(new SyntheticDatasetOptions { ImageCount = 12, ImageSize = 32, MaxObjectCount = 1, Seed = 5 }).Generate(dir.File("data"));
        using var captioner = CaptionPipeline.Create()
            .WithResNet50(CnnWeights.Random(5))
            .WithFeatureExtractorOptions(o => o with { Transform = ImageTransformOptions.Recipe224 with { Resize = ImageResize.To(32, 32) }, BatchSize = 6 })
            .WithFlickr8k(data.Directory)
            .WithFeatureCache(dir.File("cache"))
            .WithModel(m => m with { EmbeddingSize = 8, HiddenSize = 8 })
            .WithSplit(0.7, 0.1)
            .WithDevice(torch.CPU)
            .WithSeed(2)
            .Train(o => o with { Epochs = 1, BatchSize = 16, SelfCritical = new SelfCriticalOptions { Epochs = 1, SamplesPerImage = 2 } });

        Assert.That(captioner.Training!.History.Select(e => e.Phase), Is.EqualTo(new[] { TrainingPhase.CrossEntropy, TrainingPhase.SelfCritical }));
        Assert.That(captioner.Training.History[1].MeanReward, Is.Not.Null);
    }

    private static (int, TrainingPhase, double, double?, double?, double?, double?, double?, double?) Measured(EpochMetrics e) =>
        (e.Epoch, e.Phase, e.TrainLoss, e.ValidationLoss, e.ValidationCiderD, e.MeanReward, e.MeanBaseline, e.MeanSampleLength, e.ValidationBleu4);

    // Σ log p of the caption's tokens (and its end token, when it has one) from the model without dropout, teacher forced.
    private static double LogProbability(CaptionModel model, Tensor features, int[] caption, bool finished, WordTokenizer tokenizer)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        using var decoder = model.BeginDecoding(features);
        long[] targets = finished ? [.. caption.Select(t => (long)t), tokenizer.EndId] : [.. caption.Select(t => (long)t)];
        var input = (long)tokenizer.StartId;
        var total = 0.0;
        foreach (var target in targets)
        {
            var (logits, _) = decoder.Step(torch.tensor(new[] { input }));
            total += logits.log_softmax(1)[0, target].item<float>();
            input = target;
        }
        return total;
    }

    /// <summary>A trainable encoder in the model's graph: a linear map of each row to a grid.</summary>
    private sealed class LinearGridEncoder : ImageEncoder
    {
        private readonly Linear linear;

        public LinearGridEncoder(int input, int cells, int channels) : base(nameof(LinearGridEncoder))
        {
            (InputDimension, Cells, Channels) = (input, cells, channels);
            linear = torch.nn.Linear(input, cells * channels);
            RegisterComponents();
        }

        public override int InputDimension { get; }

        public override int Cells { get; }

        public override int Channels { get; }

        public override ImageEncoderDescription Description => new("test-linear", new Dictionary<string, string>());

        public override Tensor forward(Tensor input) => linear.forward(input).view(-1, Cells, Channels);
    }
}
