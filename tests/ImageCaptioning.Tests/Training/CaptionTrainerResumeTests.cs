using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ImageCaptioning.Data;
using ImageCaptioning.Testing;
using ImageCaptioning.Training;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Training;

/// <summary>
/// Resuming gives the weights of the uninterrupted run, bit for bit, on the CPU: from an epoch-end checkpoint, and
/// from a cancellation in the middle of an epoch, prefetched runs against a synchronous reference. Dropout is on, so the
/// restored generator state matters.
/// </summary>
[TestFixture]
public sealed class CaptionTrainerResumeTests
{
    private static CaptionTrainerOptions Options(LossMode mode, int epochs, string? directory = null) => TinyCaptionTask.TrainerOptions(mode, epochs, directory);

    private static CaptionDatasetMode DatasetMode(LossMode mode) => TinyCaptionTask.DatasetMode(mode);

    private static void AssertSameWeights(Dictionary<string, float[]> actual, Dictionary<string, float[]> expected) => TinyCaptionTask.AssertSameWeights(actual, expected);

    // The reference builds every batch on the training thread; the interrupted runs prefetch (the trainer's default).
    private static (Dictionary<string, float[]> Weights, TrainingResult Result) Uninterrupted(TinyCaptionTask task, LossMode mode, int epochs)
    {
        using var model = task.Model();
        using var trainer = new CaptionTrainer(model, Options(mode, epochs) with { PrefetchDepth = 0 });
        var result = trainer.Train(task.Dataset(DatasetMode(mode)), task.Dataset(DatasetMode(mode), seed: 9));
        return (TinyCaptionTask.Weights(model), result);
    }

    [TestCase(LossMode.FullSequence)]
    [TestCase(LossMode.Prefix)]
    public void OneEpochThenResumeEqualsTwoEpochs(LossMode mode)
    {
        var task = new TinyCaptionTask();
        var (expected, expectedResult) = Uninterrupted(task, mode, epochs: 2);
        using var dir = new TempDirectory();

        // The first process trains one epoch and ends ("killed" after its last checkpoint).
        using (var model = task.Model())
        using (var trainer = new CaptionTrainer(model, Options(mode, 1, dir.Path)))
        {
            var first = trainer.Train(task.Dataset(DatasetMode(mode)), task.Dataset(DatasetMode(mode), seed: 9));
            Assert.That(first.StopReason, Is.EqualTo(TrainingStopReason.Completed));
            Assert.That(first.EpochsCompleted, Is.EqualTo(1));
        }
        // Scramble libtorch's generator: the checkpoint must bring its state back.
        torch.manual_seed(12345);

        // A new process: other initial weights, fresh datasets at epoch 0; the checkpoint decides everything.
        using (var model = task.Model(seed: 99))
        using (var trainer = new CaptionTrainer(model, Options(mode, 2, dir.Path)))
        {
            var result = trainer.Train(task.Dataset(DatasetMode(mode)), task.Dataset(DatasetMode(mode), seed: 9));
            Assert.That(result.StopReason, Is.EqualTo(TrainingStopReason.Completed));
            AssertSameWeights(TinyCaptionTask.Weights(model), expected);
            AssertSameHistory(result, expectedResult);
        }
    }

    [TestCase(LossMode.FullSequence, 3)]
    [TestCase(LossMode.Prefix, 17)]
    public void CancellationMidEpochThenResumeEqualsUninterrupted(LossMode mode, int cancelAtStepOfSecondEpoch)
    {
        var task = new TinyCaptionTask();
        var (expected, expectedResult) = Uninterrupted(task, mode, epochs: 2);
        using var dir = new TempDirectory();
        var stepsPerEpoch = task.Dataset(DatasetMode(mode)).Count;
        Assert.That(cancelAtStepOfSecondEpoch, Is.LessThan(stepsPerEpoch));

        using (var cancellation = new CancellationTokenSource())
        using (var model = task.Model())
        {
            var progress = new SynchronousProgress<TrainingProgress>(p =>
            {
                if (p.Epoch == 2 && p.Step == cancelAtStepOfSecondEpoch) cancellation.Cancel();
            });
            using var trainer = new CaptionTrainer(model, Options(mode, 2, dir.Path), progress: progress);
            var cancelled = trainer.Train(task.Dataset(DatasetMode(mode)), task.Dataset(DatasetMode(mode), seed: 9), cancellation.Token);
            Assert.That(cancelled.StopReason, Is.EqualTo(TrainingStopReason.Cancelled));
            Assert.That(cancelled.EpochsCompleted, Is.EqualTo(1));
            Assert.That(cancelled.StepInEpoch, Is.EqualTo(cancelAtStepOfSecondEpoch));
            Assert.That(cancelled.GlobalStep, Is.EqualTo(stepsPerEpoch + cancelAtStepOfSecondEpoch));
        }
        torch.manual_seed(777);

        using (var model = task.Model(seed: 5))
        {
            var steps = new List<(int Epoch, int Step)>();
            var progress = new SynchronousProgress<TrainingProgress>(p => steps.Add((p.Epoch, p.Step)));
            using var trainer = new CaptionTrainer(model, Options(mode, 2) with { ResumeFrom = dir.File("last.json") }, progress: progress);
            var result = trainer.Train(task.Dataset(DatasetMode(mode)), task.Dataset(DatasetMode(mode), seed: 9));
            Assert.That(steps[0], Is.EqualTo((2, cancelAtStepOfSecondEpoch + 1)), "the resumed run starts at the next step");
            Assert.That(result.GlobalStep, Is.EqualTo(2L * stepsPerEpoch));
            AssertSameWeights(TinyCaptionTask.Weights(model), expected);
            AssertSameHistory(result, expectedResult);
        }
    }

    [Test]
    public void SameSeedGivesTheSameLossCurve()
    {
        var task = new TinyCaptionTask();
        var first = Uninterrupted(task, LossMode.FullSequence, epochs: 3).Result;
        var second = Uninterrupted(task, LossMode.FullSequence, epochs: 3).Result;
        Assert.That(second.History.Select(e => e.TrainLoss), Is.EqualTo(first.History.Select(e => e.TrainLoss)));
        Assert.That(second.History.Select(e => e.ValidationLoss), Is.EqualTo(first.History.Select(e => e.ValidationLoss)));

        // The seed drives the dropout masks: another seed gives another curve.
        using var model = task.Model();
        using var trainer = new CaptionTrainer(model, Options(LossMode.FullSequence, 3) with { Seed = 43 });
        var other = trainer.Train(task.Dataset(), task.Dataset(seed: 9));
        Assert.That(other.History.Select(e => e.TrainLoss), Is.Not.EqualTo(first.History.Select(e => e.TrainLoss)));
    }

    [Test]
    public void ResumingWithOtherSettingsIsRefusedNamingTheSetting()
    {
        var task = new TinyCaptionTask();
        using var dir = new TempDirectory();
        using (var model = task.Model())
        using (var trainer = new CaptionTrainer(model, Options(LossMode.FullSequence, 1, dir.Path)))
            trainer.Train(task.Dataset());

        using var other = task.Model();
        using var resumed = new CaptionTrainer(other, Options(LossMode.FullSequence, 2, dir.Path) with { LearningRate = 0.01 });
        var error = Assert.Throws<CheckpointMismatchException>(() => resumed.Train(task.Dataset()));
        Assert.That(error!.Message, Does.Contain("LearningRate").And.Contain("last.json"));

        using var differentBatches = new CaptionTrainer(other, Options(LossMode.FullSequence, 2, dir.Path));
        var batches = Assert.Throws<CheckpointMismatchException>(() => differentBatches.Train(task.Dataset(batchSize: 5)));
        Assert.That(batches!.Message, Does.Contain("batches per epoch"));
        var shuffle = Assert.Throws<CheckpointMismatchException>(() => differentBatches.Train(task.Dataset(seed: 4)));
        Assert.That(shuffle!.Message, Does.Contain("shuffled with seed 3").And.Contain("has seed 4"));
        Assert.That(error.CheckpointPath, Is.EqualTo(dir.File("last.json")));
    }

    [TestCase("modelFile")]
    [TestCase("optimizerFile")]
    public void ACheckpointFileChangedAfterItWasWrittenIsRefusedNamingIt(string which)
    {
        var task = new TinyCaptionTask();
        using var dir = new TempDirectory();
        using (var model = task.Model())
        using (var trainer = new CaptionTrainer(model, Options(LossMode.FullSequence, 1, dir.Path)))
            trainer.Train(task.Dataset());
        var checkpoint = JsonNode.Parse(File.ReadAllText(dir.File("last.json")))!;
        var file = dir.File(checkpoint[which]!.GetValue<string>());
        if (which == "modelFile") Tamper.FlipTensorBytes(file);
        else Tamper.FlipMiddleBytes(file);

        using var other = task.Model();
        using var resumed = new CaptionTrainer(other, Options(LossMode.FullSequence, 2, dir.Path));
        var error = Assert.Throws<InvalidDataException>(() => resumed.Train(task.Dataset()));

        Assert.That(error!.Message, Does.StartWith(file + ": the SHA-256 is").And.Contain("last.json records"));
    }

    /// <summary>Without its digests, damage could switch verification off: each missing or edited one is refused, naming last.json and the key.</summary>
    [TestCase("modelSha256", false)]
    [TestCase("optimizerSha256", false)]
    [TestCase("stateSha256", false)]
    [TestCase("format", false)]
    [TestCase("epochLossSum", true)]
    public void ACheckpointWithoutItsDigestsOrWithItsStateEditedIsRefused(string key, bool edit)
    {
        var task = new TinyCaptionTask();
        using var dir = new TempDirectory();
        using (var model = task.Model())
        using (var trainer = new CaptionTrainer(model, Options(LossMode.FullSequence, 1, dir.Path)))
            trainer.Train(task.Dataset());
        var checkpoint = JsonNode.Parse(File.ReadAllText(dir.File("last.json")))!.AsObject();
        foreach (var (digest, file) in new[] { ("modelSha256", "modelFile"), ("optimizerSha256", "optimizerFile") })
            Assert.That(checkpoint[digest]!.GetValue<string>(), Is.EqualTo(Sha256(dir.File(checkpoint[file]!.GetValue<string>()))), digest);
        if (key == "format") checkpoint["format"] = 1;
        else if (edit) checkpoint[key] = checkpoint[key]!.GetValue<double>() + 1;
        else checkpoint.Remove(key);
        File.WriteAllText(dir.File("last.json"), checkpoint.ToJsonString());

        using var other = task.Model();
        using var resumed = new CaptionTrainer(other, Options(LossMode.FullSequence, 2, dir.Path));
        var error = Assert.Throws<InvalidDataException>(() => resumed.Train(task.Dataset()));

        Assert.That(error!.Message, Does.StartWith(dir.File("last.json") + ": "));
        Assert.That(error.Message, key == "format" ? Does.Contain("format-1 checkpoint") : edit ? Does.Contain("the SHA-256 is") : Does.Contain($"'{key}' is missing"));
    }

    [Test]
    public void ACheckpointWrittenBeforeTheShuffleSeedWasRecordedStillResumes()
    {
        var task = new TinyCaptionTask();
        var (expected, _) = Uninterrupted(task, LossMode.FullSequence, epochs: 2);
        var resumed = ResumedAfterEditing(task, (checkpoint, _) =>
        {
            Assert.That((checkpoint["shuffleSeed"]!.GetValue<int>(), checkpoint["datasetEpoch"]!.GetValue<int>()), Is.EqualTo((3, 1)));
            checkpoint.Remove("shuffleSeed");
        });
        AssertSameWeights(resumed, expected);
    }

    [Test]
    public void TheTrainerOwnsTheEpochAndLeavesTheDatasetsOwnAlone()
    {
        var task = new TinyCaptionTask();
        var (expected, _) = Uninterrupted(task, LossMode.FullSequence, epochs: 2);
        var train = task.Dataset();
        var steps = train.Count;
        // Moving the dataset's own epoch mid-run (enumerating it twice after the first epoch's last step) changes no batch the trainer reads.
        var progress = new SynchronousProgress<TrainingProgress>(p =>
        {
            if (p.Epoch != 1 || p.Step != steps) return;
            for (var pass = 0; pass < 2; pass++)
                foreach (var batch in train) batch.Dispose();
        });
        using var model = task.Model();
        using var trainer = new CaptionTrainer(model, Options(LossMode.FullSequence, 2), progress: progress);
        trainer.Train(train, task.Dataset(seed: 9));

        Assert.That(train.Epoch, Is.EqualTo(2), "only the enumerations moved it");
        AssertSameWeights(TinyCaptionTask.Weights(model), expected);
    }

    // One epoch into a checkpoint, its JSON edited to what an older version wrote (with its state digest made anew, as a
    // writer would), resumed to two epochs: the weights.
    private static Dictionary<string, float[]> ResumedAfterEditing(TinyCaptionTask task, Action<JsonObject, TempDirectory> edit)
    {
        using var dir = new TempDirectory();
        using (var model = task.Model())
        using (var trainer = new CaptionTrainer(model, Options(LossMode.FullSequence, 1, dir.Path)))
            trainer.Train(task.Dataset(), task.Dataset(seed: 9));
        var checkpoint = JsonNode.Parse(File.ReadAllText(dir.File("last.json")))!.AsObject();
        edit(checkpoint, dir);
        checkpoint["stateSha256"] = ImageCaptioning.IO.FileDigest.JsonSha256(System.Text.Encoding.UTF8.GetBytes(checkpoint.ToJsonString()), "stateSha256");
        File.WriteAllText(dir.File("last.json"), checkpoint.ToJsonString());

        using var resumedModel = task.Model(seed: 99);
        using var resumed = new CaptionTrainer(resumedModel, Options(LossMode.FullSequence, 2, dir.Path));
        resumed.Train(task.Dataset(), task.Dataset(seed: 9));
        return TinyCaptionTask.Weights(resumedModel);
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private static void AssertSameHistory(TrainingResult actual, TrainingResult expected)
    {
        Assert.That(actual.History.Select(e => (e.Epoch, e.TrainLoss, e.ValidationLoss)),
            Is.EqualTo(expected.History.Select(e => (e.Epoch, e.TrainLoss, e.ValidationLoss))));
        Assert.That(actual.BestEpoch, Is.EqualTo(expected.BestEpoch));
    }
}
