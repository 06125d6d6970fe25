using ImageCaptioning.Training;

namespace ImageCaptioning.Tests.Pretrained;

/// <summary>Each fine-tuning step's loss, reported synchronously (Progress&lt;T&gt; would post to the thread pool).</summary>
internal sealed class StepLosses : IProgress<TrainingProgress>
{
    public List<double> Values { get; } = [];

    public void Report(TrainingProgress value) => Values.Add(value.Loss);
}
