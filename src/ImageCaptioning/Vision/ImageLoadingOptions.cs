namespace ImageCaptioning.Vision;

/// <summary>
/// How image files are decoded ahead of their consumer: on how many worker threads, how many batches ahead, and
/// within which decoding limits. Shared by <see cref="ImageBatchLoaderOptions"/> and <see cref="FeatureExtractorOptions"/>.
/// </summary>
public abstract record ImageLoadingOptions
{
    /// <summary>
    /// Images decoded and resized at once on worker threads, overlapping the consumer's compute. Default: one less
    /// than the processor count (at least 1), leaving a core to the consumer's model.
    /// </summary>
    public int DecodeThreads
    {
        get;
        init => field = OptionGuard.AtLeast(value, 1);
    } = Math.Max(1, Environment.ProcessorCount - 1);

    /// <summary>Batches prepared ahead of the consumer (this bounds the memory held by prefetched images). Default 2.</summary>
    public int PrefetchBatches
    {
        get;
        init => field = OptionGuard.AtLeast(value, 1);
    } = 2;

    /// <summary>
    /// Decoding limits and behaviour. Default: <see cref="ImageDecoderOptions.ForConcurrentDecoding"/> for
    /// <see cref="DecodeThreads"/>, a pixel limit at which that many images decoded at once fit in half the memory.
    /// </summary>
    public ImageDecoderOptions Decoder
    {
        get => field ?? ImageDecoderOptions.ForConcurrentDecoding(DecodeThreads);
        init => field = OptionGuard.NotNull(value);
    }
}
