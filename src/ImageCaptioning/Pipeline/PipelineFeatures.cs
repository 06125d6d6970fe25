using ImageCaptioning.Features;
using ImageCaptioning.Vision;

namespace ImageCaptioning.Pipeline;

/// <summary>
/// What the feature stage hands on: the extractor and its store, opened for reading, holding every captioned image.
/// They are the run's until a captioner takes them (<see cref="Release"/>); disposing before that frees them.
/// </summary>
internal sealed class PipelineFeatures(IFeatureExtractor extractor, bool ownsExtractor, FeatureStore store) : IDisposable
{
    private bool released;

    public IFeatureExtractor Extractor => extractor;

    /// <summary>False for the caller's extractor, which the pipeline never disposes.</summary>
    public bool OwnsExtractor => ownsExtractor;

    public FeatureStore Store => store;

    /// <summary>Another owner keeps the store and the extractor now: <see cref="Dispose"/> leaves them alone.</summary>
    public void Release() => released = true;

    public void Dispose()
    {
        if (released) return;
        released = true;
        store.Dispose();
        if (ownsExtractor) extractor.Dispose();
    }
}
