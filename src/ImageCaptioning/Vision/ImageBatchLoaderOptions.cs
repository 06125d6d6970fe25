
namespace ImageCaptioning.Vision;

/// <summary>Settings of an <see cref="ImageBatchLoader"/>.</summary>
public sealed record ImageBatchLoaderOptions
{
    /// <summary>Images per batch; the last batch may be smaller. Default 32.</summary>
    public int BatchSize
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            field = value;
        }
    } = 32;

    /// <summary>
    /// Images decoded and resized at once, on thread-pool threads. Default: one less than the processor count
    /// (at least 1), leaving a core to the consumer's model.
    /// </summary>
    public int DecodeThreads
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            field = value;
        }
    } = Math.Max(1, Environment.ProcessorCount - 1);

    /// <summary>
    /// Batches prepared ahead of the consumer (this bounds the memory held by prefetched images). Default 2.
    /// </summary>
    public int PrefetchBatches
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            field = value;
        }
    } = 2;

    /// <summary>Where the batch tensors are delivered (normalisation runs there). Default: CPU.</summary>
    public Device Device { get; init; } = torch.CPU;

    /// <summary>
    /// Decoding limits and behaviour. Default: <see cref="ImageDecoderOptions.ForConcurrentDecoding"/> for
    /// <see cref="DecodeThreads"/>, a pixel limit at which that many images decoded at once fit in half the memory.
    /// </summary>
    public ImageDecoderOptions Decoder
    {
        get => field ?? ImageDecoderOptions.ForConcurrentDecoding(DecodeThreads);
        init => field = value ?? throw new ArgumentNullException(nameof(Decoder));
    }
}
