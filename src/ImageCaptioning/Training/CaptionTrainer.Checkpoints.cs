using ImageCaptioning.Data;
using ImageCaptioning.IO;
using ImageCaptioning.Modeling;
using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Training;

public sealed partial class CaptionTrainer
{
    private TrainingCheckpoint StartOrResume(ICaptionDataset train, CheckpointStore? store)
    {
        var path = ResumePath(store);
        if (path is null)
        {
            torch.manual_seed(Options.Seed);
            return new TrainingCheckpoint
            {
                LibraryVersion = LibraryVersion.Current,
                StepsPerEpoch = train.Count,
                DatasetEpoch = train.Epoch,
                ShuffleSeed = ShuffleSeedOf(train),
                OptionsHash = Options.Hash(),
                Options = Options.ResultAffectingSettings().ToDictionary(),
            };
        }

        var resumed = CheckpointStore.ReadState(path);
        CheckSettings(resumed, path);
        // What the run goes on with; differs from what was recorded only in self-critical settings that did not bind yet.
        resumed.Options = Options.ResultAffectingSettings().ToDictionary();
        resumed.OptionsHash = Options.Hash();
        CheckpointStore.RestoreTensors(path, resumed, Model, optimizer, device);
        RestoreRandomState(resumed, path);
        stateSource = path;
        logger.LogInformation("Resumed from {Checkpoint}: epoch {Epoch}, step {Step} of {Steps}, global step {GlobalStep}",
            path, resumed.Epoch + 1, resumed.StepInEpoch, resumed.StepsPerEpoch, resumed.GlobalStep);
        return resumed;
    }

    // The checkpoint's position is only the uninterrupted run's when the dataset cuts and orders its batches the same way.
    private void CheckSameBatches(TrainingCheckpoint current, ICaptionDataset train)
    {
        var source = stateSource ?? "the trainer";
        if (current.StepsPerEpoch != train.Count)
            throw new CheckpointMismatchException(stateSource, $"{source} was trained with {current.StepsPerEpoch} batches per epoch, but the training dataset has {train.Count}: resume with the same dataset and batch size");
        if (current.ShuffleSeed is { } seed && ShuffleSeedOf(train) != seed)
            throw new CheckpointMismatchException(stateSource, $"{source} was trained on a dataset shuffled with seed {seed}, but the training dataset {(train.Options.Shuffle ? $"has seed {train.Options.Seed}" : "does not shuffle")}: resume with the same dataset options");
    }

    private static int? ShuffleSeedOf(ICaptionDataset train) => train.Options.Shuffle ? train.Options.Seed : null;

    private string? ResumePath(CheckpointStore? store)
    {
        if (Options.ResumeFrom is { } resume)
            return Directory.Exists(resume) ? Path.Combine(resume, CheckpointStore.Last + ".json") : resume;
        var last = store?.JsonPath(CheckpointStore.Last);
        return last is not null && File.Exists(last) ? last : null;
    }

    // The self-critical settings change nothing before the first self-critical step, so until then a checkpoint
    // neither records them bindingly nor refuses other ones.
    private void CheckSettings(TrainingCheckpoint checkpoint, string path)
    {
        var binding = checkpoint.SelfCriticalStartEpoch is not null;
        bool Binds(string name) => binding || !CaptionTrainerOptions.IsSelfCriticalSetting(name);
        var settings = Options.ResultAffectingSettings();
        foreach (var (name, value) in settings.Where(pair => Binds(pair.Key)))
        {
            if (!checkpoint.Options.TryGetValue(name, out var saved))
                throw new InvalidDataException($"{path}: the checkpoint does not record the setting {name}");
            if (saved != value)
                throw new CheckpointMismatchException(path, $"{path} was trained with {name} = {saved}, but the options say {value}: resume with the same settings, or start a new run");
        }
        foreach (var (name, saved) in checkpoint.Options)
        {
            if (Binds(name) && !settings.Any(pair => pair.Key == name))
                throw new CheckpointMismatchException(path, $"{path} was trained with {name} = {saved}, but the options do not set it: resume with the same settings, or start a new run");
        }
        if (checkpoint.OptionsHash != CaptionTrainerOptions.Hash(checkpoint.Options))
            throw new InvalidDataException($"{path}: the recorded settings do not match their hash; the checkpoint was edited or damaged");
    }

    private static void RestoreRandomState(TrainingCheckpoint checkpoint, string path)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(checkpoint.CpuRngState);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"{path}: the RNG state is not base64 ({e.Message})", e);
        }
        using var scope = torch.NewDisposeScope();
        try
        {
            torch.set_rng_state(TensorSpan.Create<byte>(bytes, [bytes.Length]));
        }
        catch (ExternalException e)
        {
            throw new InvalidDataException($"{path}: the RNG state was rejected by libtorch ({e.Message})", e);
        }
    }

    private void SaveCheckpoint(CheckpointStore store, string name, TrainingCheckpoint current)
    {
        using (var scope = torch.NewDisposeScope())
            current.CpuRngState = Convert.ToBase64String(torch.get_rng_state().ToArray<byte>());
        store.Save(name, Model, optimizer, current);
        logger.LogDebug("Wrote checkpoint {Checkpoint} at epoch {Epoch}, step {Step}", store.JsonPath(name), current.Epoch + 1, current.StepInEpoch);
    }
}
