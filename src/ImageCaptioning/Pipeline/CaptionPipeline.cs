namespace ImageCaptioning.Pipeline;

/// <summary>
/// The entry point: <c>CaptionPipeline.Create().WithVgg16().WithFlickr8k(root).Train()</c> reads captions, extracts
/// (and caches) image features, trains a captioning model and returns a <see cref="Captioner"/>.
/// </summary>
public static class CaptionPipeline
{
    /// <summary>A new, empty builder.</summary>
    public static CaptionPipelineBuilder Create() => new();

    /// <summary>
    /// A captioner from a Hugging Face checkpoint folder (ViT-GPT-2's <c>VisionEncoderDecoderModel</c>, ...), ready to
    /// caption without training: see <see cref="Pretrained.PretrainedCaptioner.Load"/>.
    /// </summary>
    public static Pretrained.PretrainedCaptioner FromPretrained(string folder, Pretrained.PretrainedCaptionerOptions? options = null) =>
        Pretrained.PretrainedCaptioner.Load(folder, options);
}
