using ImageCaptioning.Modeling;
using ImageCaptioning.Training;

namespace ImageCaptioning.Pipeline;

/// <summary>What the training stage hands on: the model, the run's until <see cref="Release"/>, and its training history.</summary>
internal sealed class TrainedModel(CaptionModel model, TrainingResult result) : IDisposable
{
    private CaptionModel? model = model;

    public CaptionModel Model => model ?? throw new ObjectDisposedException(nameof(TrainedModel));

    public TrainingResult Result => result;

    /// <summary>Hands the model to a new owner (a bundle): <see cref="Dispose"/> leaves it alone.</summary>
    public CaptionModel Release()
    {
        var released = Model;
        model = null;
        return released;
    }

    public void Dispose()
    {
        model?.Dispose();
        model = null;
    }
}
