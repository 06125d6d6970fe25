using System.Text.Json;
using ImageCaptioning.Data;
using ImageCaptioning.Evaluation;
using ImageCaptioning.Modeling;
using ImageCaptioning.Testing;
using ImageCaptioning.Tests.Data;
using ImageCaptioning.Torch.Serialization;
using ImageCaptioning.Training;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Training;

[TestFixture]
public sealed class CaptionTrainerTests
{
    private static readonly CaptionTrainerOptions Base = new() { Epochs = 2, LearningRate = 5e-3, Seed = 1 };

    [Test]
    public void EarlyStoppingStopsWhereThePatienceRuleSaysOnTheFullCurve()
    {
        var task = new TinyCaptionTask();
        // Validation captions unrelated to the training ones: the validation loss falls, then rises as the model overfits.
        var unrelated = new TinyCaptionTask(seed: 2);
                CaptionDataset Validation() => CaptionDataset.Create(unrelated.Corpus, task.Tokenizer, unrelated.Features, new CaptionDatasetOptions { BatchSize = 8 });
        var options = Base with { Epochs = 40, LearningRate = 0.03, Patience = 2 };

        TrainingResult stopped;
        using (var model = task.Model())
        using (var trainer = new CaptionTrainer(model, options))
            stopped = trainer.Train(task.Dataset(), Validation());
        Assert.That(stopped.StopReason, Is.EqualTo(TrainingStopReason.EarlyStopped));

        // The same run without early stopping, a little longer: the rule applied to its curve stops at the same epoch.
        TrainingResult full;
        using (var model = task.Model())
        using (var trainer = new CaptionTrainer(model, options with { Patience = null, Epochs = stopped.EpochsCompleted + 2 }))
            full = trainer.Train(task.Dataset(), Validation());
        var losses = full.History.Select(e => e.ValidationLoss!.Value).ToArray();
        Assert.That(stopped.History.Select(e => e.ValidationLoss), Is.EqualTo(losses.Take(stopped.EpochsCompleted).Select(v => (double?)v)));

        var best = double.PositiveInfinity;
        var bestEpoch = 0;
        var waiting = 0;
        var expectedStop = -1;
        for (var epoch = 1; epoch <= losses.Length && expectedStop < 0; epoch++)
        {
            if (losses[epoch - 1] < best) (best, bestEpoch, waiting) = (losses[epoch - 1], epoch, 0);
            else if (++waiting == 2) expectedStop = epoch;
        }
        Assert.That(stopped.EpochsCompleted, Is.EqualTo(expectedStop));
        Assert.That(stopped.BestEpoch, Is.EqualTo(bestEpoch));
        Assert.That(stopped.EpochsCompleted - stopped.BestEpoch, Is.EqualTo(2));
    }

    [Test]
    public void CheckpointDirectoryHoldsOnlyCommittedCheckpoints()
    {
        var task = new TinyCaptionTask();
        using var dir = new TempDirectory();
        using var model = task.Model();
        using (var trainer = new CaptionTrainer(model, Base with { CheckpointDirectory = dir.Path }))
            trainer.Train(task.Dataset(), task.Dataset(seed: 9));

        var files = Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order().ToArray();
        Assert.That(files, Has.Length.EqualTo(6), string.Join(", ", files));
        Assert.That(files.Count(f => f!.StartsWith('.') || f.EndsWith(".tmp", StringComparison.Ordinal)), Is.Zero, "temporary files left");
        foreach (var name in new[] { "last", "best" })
        {
            using var json = JsonDocument.Parse(File.ReadAllText(dir.File(name + ".json")));
            var modelFile = json.RootElement.GetProperty("modelFile").GetString()!;
            var optimizerFile = json.RootElement.GetProperty("optimizerFile").GetString()!;
            Assert.That(files, Does.Contain(modelFile).And.Contain(optimizerFile));
            Assert.That(json.RootElement.GetProperty("cpuRngState").GetString(), Is.Not.Empty);
            Assert.That(json.RootElement.GetProperty("optionsHash").GetString(), Has.Length.EqualTo(64));
            Assert.That(json.RootElement.GetProperty("history").GetArrayLength(), Is.EqualTo(json.RootElement.GetProperty("epoch").GetInt32()));
        }

        // The last checkpoint's weights are the model's, under the state_dict key names.
        using var last = JsonDocument.Parse(File.ReadAllText(dir.File("last.json")));
        using var weights = Safetensors.Load(dir.File(last.RootElement.GetProperty("modelFile").GetString()!));
        var expected = TinyCaptionTask.Weights(model);
        Assert.That(weights.Keys, Is.EquivalentTo(expected.Keys));
        foreach (var (key, tensor) in weights) Assert.That(tensor.ToArray<float>(), Is.EqualTo(expected[key]), key);
    }

    [TestCase(".model.safetensors")]
    [TestCase(".optimizer.bin")]
    public void FailedCheckpointWriteLeavesThePreviousCheckpointIntact(string failAfter)
    {
        var task = new TinyCaptionTask();
        using var dir = new TempDirectory();
        using (var model = task.Model())
        using (var trainer = new CaptionTrainer(model, Base with { CheckpointDirectory = dir.Path }))
            trainer.Train(task.Dataset());
        var lastJson = File.ReadAllBytes(dir.File("last.json"));
        var listing = Directory.GetFiles(dir.Path).Order().ToArray();

        using (var model = task.Model())
        using (var trainer = new CaptionTrainer(model, Base with { Epochs = 3, CheckpointDirectory = dir.Path })
        {
            AfterCheckpointFileWritten = path =>
            {
                if (path.EndsWith(failAfter, StringComparison.Ordinal)) throw new IOException("disk full (injected)");
            },
        })
        {
            var error = Assert.Throws<IOException>(() => trainer.Train(task.Dataset()));
            Assert.That(error!.Message, Does.Contain("injected"));
        }
        Assert.That(File.ReadAllBytes(dir.File("last.json")), Is.EqualTo(lastJson), "last.json was replaced");
        Assert.That(Directory.GetFiles(dir.Path).Order(), Is.EqualTo(listing), "files were added or removed");

        // The surviving checkpoint resumes to the weights of an uninterrupted 3-epoch run.
        Dictionary<string, float[]> expected;
        using (var model = task.Model())
        using (var trainer = new CaptionTrainer(model, Base with { Epochs = 3 }))
        {
            trainer.Train(task.Dataset());
            expected = TinyCaptionTask.Weights(model);
        }
        using (var model = task.Model(seed: 3))
        using (var trainer = new CaptionTrainer(model, Base with { Epochs = 3, CheckpointDirectory = dir.Path }))
        {
            Assert.That(trainer.Train(task.Dataset()).EpochsCompleted, Is.EqualTo(3));
            var actual = TinyCaptionTask.Weights(model);
            foreach (var (key, values) in expected) Assert.That(actual[key], Is.EqualTo(values), key);
        }
    }

    [Test]
    public void ProgressAndLogsDescribeEveryStep()
    {
        var task = new TinyCaptionTask();
        var reports = new List<TrainingProgress>();
        var logger = new ListLogger();
        using var model = task.Model();
        using var trainer = new CaptionTrainer(model, Base, logger, new SynchronousProgress<TrainingProgress>(reports.Add));
        var train = task.Dataset();
        var steps = train.Count;
        var result = trainer.Train(train, task.Dataset(seed: 9));

        Assert.That(reports, Has.Count.EqualTo(2 * steps));
        for (var i = 0; i < reports.Count; i++)
        {
            var report = reports[i];
            Assert.That((report.Epoch, report.Step, report.GlobalStep), Is.EqualTo((i / steps + 1, i % steps + 1, (long)i + 1)), $"report {i}");
            Assert.That((report.Epochs, report.StepsPerEpoch), Is.EqualTo((2, steps)));
            Assert.That(double.IsFinite(report.Loss) && report.Loss > 0, Is.True, $"loss {report.Loss}");
            Assert.That(report.TokensPerSecond, Is.GreaterThan(0));
            Assert.That(report.EstimatedTimeRemaining, Is.GreaterThanOrEqualTo(TimeSpan.Zero));
        }
        Assert.That(reports[^1].EstimatedTimeRemaining, Is.EqualTo(TimeSpan.Zero));
        Assert.That(reports[0].EstimatedTimeRemaining, Is.GreaterThan(TimeSpan.Zero));

        Assert.That(result.History.Select(e => e.Epoch), Is.EqualTo(new[] { 1, 2 }));
        Assert.That(result.History.All(e => e.TokensPerSecond > 0 && e.ValidationLoss is > 0 && e.ValidationBleu4 is null), Is.True);
        // The epoch's train loss is the token-weighted mean of its step losses.
        Assert.That(result.History[0].TrainLoss, Is.InRange(reports.Take(steps).Min(r => r.Loss), reports.Take(steps).Max(r => r.Loss)));
        Assert.That(logger.Entries.Count(e => e.Message.StartsWith("Epoch 1/2: train loss", StringComparison.Ordinal)), Is.EqualTo(1));
        Assert.That(logger.Entries.Count(e => e.Message.StartsWith("Epoch 2/2: train loss", StringComparison.Ordinal)), Is.EqualTo(1));
    }

    [TestCase(CaptionDatasetMode.FullSequence)]
    [TestCase(CaptionDatasetMode.PrefixExpansion)]
    public void ValidationBleuScoresGreedyCaptionsOfTheImages(CaptionDatasetMode mode)
    {
        var task = new TinyCaptionTask();
        var lossMode = mode == CaptionDatasetMode.FullSequence ? LossMode.FullSequence : LossMode.Prefix;
        using var model = task.Model(dropout: 0);
        using var trainer = new CaptionTrainer(model, Base with { Epochs = 6, LearningRate = 0.02, Mode = lossMode, ValidationBleu = true });
        var validation = task.Dataset(mode, seed: 9);
        var result = trainer.Train(task.Dataset(mode), validation);
        var reported = result.History[^1].ValidationBleu4!.Value;

        // Independently: decode each image from its features alone and score against the corpus captions.
        var decoder = new CaptionDecoder(model, task.Tokenizer.StartId, task.Tokenizer.EndId);
        var maxTokens = task.Corpus.ImageIds.SelectMany(id => task.Corpus[id]).Max(c => c.Split(' ').Length);
        var hypotheses = new List<IReadOnlyList<string>>();
        var references = new List<IReadOnlyList<IReadOnlyList<string>>>();
        using var scope = torch.NewDisposeScope();
        foreach (var id in task.Corpus.ImageIds)
        {
            var row = new float[TinyCaptionTask.Dimension];
            task.Features.TryGetRow(id, out var index);
            task.Features.Read(index, row);
            var caption = decoder.Decode(torch.tensor(row, [1, row.Length]), DecodingOptions.Greedy with { MaxLength = maxTokens - 1 })[0];
            hypotheses.Add(task.Tokenizer.Decode(caption.Tokens, skipSpecialTokens: true).Split(' ', StringSplitOptions.RemoveEmptyEntries));
            references.Add([.. task.Corpus[id].Select(c => c.Split(' ').Where(w => w is not ("startseq" or "endseq")).ToArray())]);
        }
        var expected = Bleu.Corpus(hypotheses, references).Bleu4;
        Assert.That(expected, Is.GreaterThan(0), "the model should have learned enough to score");
        Assert.That(reported, Is.EqualTo(expected).Within(1e-12));
        Assert.That(validation.Epoch, Is.Zero, "validation must not advance the validation dataset");
    }

    [Test]
    public void InvalidOptionsThrowNamingTheSetting()
    {
        var task = new TinyCaptionTask();
        using var model = task.Model();
        // A bad value fails where it is set (in the with expression); a CUDA device that is absent, in the trainer.
        void Expect(Func<CaptionTrainerOptions> options, string setting)
        {
            var error = Assert.Catch<ArgumentException>(() => new CaptionTrainer(model, options()).Dispose(), setting);
            Assert.That(error!.ParamName, Is.EqualTo(setting));
            Assert.That(error.Message, Does.Contain(setting));
        }
        Expect(() => Base with { Epochs = 0 }, "Epochs");
        Expect(() => Base with { LearningRate = 0 }, "LearningRate");
        Expect(() => Base with { LearningRate = double.NaN }, "LearningRate");
        Expect(() => Base with { Beta1 = 1 }, "Beta1");
        Expect(() => Base with { Beta2 = -0.1 }, "Beta2");
        Expect(() => Base with { Epsilon = 0 }, "Epsilon");
        Expect(() => Base with { WeightDecay = -1 }, "WeightDecay");
        Expect(() => Base with { GradientClipNorm = 0 }, "GradientClipNorm");
        Expect(() => Base with { Mode = (LossMode)7 }, "Mode");
        Expect(() => Base with { Patience = 0 }, "Patience");
        Expect(() => Base with { CheckpointDirectory = " " }, "CheckpointDirectory");
        Expect(() => Base with { ResumeFrom = "" }, "ResumeFrom");
        if (!torch.cuda.is_available()) Expect(() => Base with { Device = new Device(DeviceType.CUDA, 0) }, "Device");

        // Settings that need something of the datasets are checked when training starts.
        using var trainer = new CaptionTrainer(model, Base with { Patience = 2 });
        Assert.That(Assert.Throws<ArgumentException>(() => trainer.Train(task.Dataset()))!.Message, Does.Contain("Patience"));
        using var bleu = new CaptionTrainer(model, Base with { ValidationBleu = true });
        Assert.That(Assert.Throws<ArgumentException>(() => bleu.Train(task.Dataset()))!.Message, Does.Contain("ValidationBleu"));
        using var prefix = new CaptionTrainer(model, Base with { Mode = LossMode.Prefix });
        Assert.That(Assert.Throws<ArgumentException>(() => prefix.Train(task.Dataset()))!.Message, Does.Contain("Mode").And.Contain("PrefixExpansion"));
        using var missing = new CaptionTrainer(model, Base with { ResumeFrom = "/nonexistent/last.json" });
        Assert.That(Assert.Throws<FileNotFoundException>(() => missing.Train(task.Dataset()))!.Message, Does.Contain("/nonexistent/last.json"));
    }

    [Test]
    public void StepsRunInsideDisposeScopesAndReturnBatches()
    {
        var task = new TinyCaptionTask();
        using var model = task.Model();
        using var trainer = new CaptionTrainer(model, Base with { Epochs = 1, ValidationBleu = true });
        var train = task.Dataset();
        var validation = task.Dataset(seed: 9);
        trainer.Train(train, validation);
        var before = Tensor.TotalCount;
        trainer.Train(train, validation);
        using (var again = new CaptionTrainer(model, Base with { Epochs = 2, ValidationBleu = true }))
        {
            again.Train(task.Dataset(), validation);
            // Live tensors: the optimiser's two moments per parameter, nothing from the steps.
            Assert.That(Tensor.TotalCount - before, Is.EqualTo(2 * model.parameters().Count()));
        }
        Assert.That(Tensor.TotalCount, Is.EqualTo(before));
    }
}
