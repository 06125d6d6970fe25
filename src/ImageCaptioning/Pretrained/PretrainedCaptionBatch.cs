using ImageCaptioning.Vision;

namespace ImageCaptioning.Pretrained;

/// <summary>
/// One fine-tuning batch of a <see cref="PretrainedCaptionData"/>: decoded images (host memory only, so it may be built
/// on a prefetch thread) and one caption for each. Disposing frees the images.
/// </summary>
public sealed class PretrainedCaptionBatch : IDisposable
{
    internal PretrainedCaptionBatch(IReadOnlyList<string> imageIds, IReadOnlyList<RgbImage> images, IReadOnlyList<string> captions) =>
        (ImageIds, Images, Captions) = (imageIds, images, captions);

    /// <summary>The corpus image id of each row.</summary>
    public IReadOnlyList<string> ImageIds { get; }

    /// <summary>The decoded image of each row (an image with several captions in the batch is decoded for each).</summary>
    public IReadOnlyList<RgbImage> Images { get; }

    /// <summary>The caption of each row.</summary>
    public IReadOnlyList<string> Captions { get; }

    /// <summary>Frees the images.</summary>
    public void Dispose()
    {
        foreach (var image in Images) image.Dispose();
    }
}
