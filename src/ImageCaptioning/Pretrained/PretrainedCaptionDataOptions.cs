using ImageCaptioning.Data;
using ImageCaptioning.Vision;

namespace ImageCaptioning.Pretrained;

/// <summary>
/// How a <see cref="PretrainedCaptionData"/> batches and orders its (image, caption) pairs (<see cref="SequenceOptions"/>:
/// batch size, shuffling seeded by <see cref="SequenceOptions.Seed"/> and the epoch, dropping a small last batch),
/// decodes its images, and treats images missing from the folder.
/// </summary>
public sealed record PretrainedCaptionDataOptions : SequenceOptions
{
    /// <summary>What to do with corpus images that are not in the image folder: fail naming them (the default), or leave them out with a counted warning.</summary>
    public MissingFeaturePolicy MissingImages { get; init => field = OptionGuard.Defined(value); } = MissingFeaturePolicy.Throw;

    /// <summary>How image files are decoded.</summary>
    public ImageDecoderOptions Decoder { get; init => field = OptionGuard.NotNull(value); } = ImageDecoderOptions.Default;
}
