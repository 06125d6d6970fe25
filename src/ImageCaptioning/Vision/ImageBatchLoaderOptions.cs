
namespace ImageCaptioning.Vision;

/// <summary>Settings of an <see cref="ImageBatchLoader"/>: batching and delivery, and how its images are decoded ahead.</summary>
public sealed record ImageBatchLoaderOptions : ImageLoadingOptions
{
    /// <summary>Images per batch; the last batch may be smaller. Default 32.</summary>
    public int BatchSize
    {
        get;
        init => field = OptionGuard.AtLeast(value, 1);
    } = 32;

    /// <summary>Where the batch tensors are delivered (normalisation runs there). Default: CPU.</summary>
    public Device Device { get; init; } = torch.CPU;
}
