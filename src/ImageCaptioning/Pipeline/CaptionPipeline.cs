namespace ImageCaptioning.Pipeline;

/// <summary>
/// The entry point: <c>CaptionPipeline.Create().WithVgg16().WithFlickr8k(root).Train()</c> reads captions, extracts
/// (and caches) image features, trains a captioning model and returns a <see cref="Captioner"/>.
/// </summary>
public static class CaptionPipeline
{
    /// <summary>A new, empty builder.</summary>
    public static CaptionPipelineBuilder Create() => new();
}
