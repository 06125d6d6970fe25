using ImageCaptioning.Training;

namespace ImageCaptioning.Tests.Pretrained;

/// <summary>Cancels <paramref name="source"/> when the fine-tuner reports global step <paramref name="step"/>, as a user stopping a run would.</summary>
internal sealed class CancelAtStep(long step, CancellationTokenSource source) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value)
    {
        if (value.GlobalStep == step) source.Cancel();
    }
}
