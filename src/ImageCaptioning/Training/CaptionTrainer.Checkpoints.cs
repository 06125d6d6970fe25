using ImageCaptioning.Data;
using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Training;

public sealed partial class CaptionTrainer
{
    private TrainingCheckpoint StartOrResume(ICaptionDataset train, CheckpointStore? store)
    {
        var settings = Options.ResultAffectingSettings();
        var path = ResumePath(store);
        if (path is null) return TrainingCheckpoint.Begin(settings, Options.Seed, train.Count, train.Epoch, ShuffleSeedOf(train));

        var resumed = CheckpointStore.ReadState(path);
        // The self-critical settings change nothing before the first self-critical step, so until then a checkpoint
        // neither records them bindingly nor refuses other ones.
        var binding = resumed.SelfCriticalStartEpoch is not null;
        resumed.Resume(path, settings, name => binding || !CaptionTrainerOptions.IsSelfCriticalSetting(name), Model, optimizer, device);
        stateSource = path;
        logger.LogInformation("Resumed from {Checkpoint}: epoch {Epoch}, step {Step} of {Steps}, global step {GlobalStep}",
            path, resumed.Epoch + 1, resumed.StepInEpoch, resumed.StepsPerEpoch, resumed.GlobalStep);
        return resumed;
    }

    private static int? ShuffleSeedOf(ICaptionDataset train) => train.Options.Shuffle ? train.Options.Seed : null;

    private string? ResumePath(CheckpointStore? store) => CheckpointStore.ResumePath(Options.ResumeFrom, store);

    private void SaveCheckpoint(CheckpointStore store, string name, TrainingCheckpoint current)
    {
        current.CaptureRandomState();
        store.Save(name, Model, optimizer, current);
        logger.LogDebug("Wrote checkpoint {Checkpoint} at epoch {Epoch}, step {Step}", store.JsonPath(name), current.Epoch + 1, current.StepInEpoch);
    }
}
