
namespace ImageCaptioning.Vision;

/// <summary>A batch of transformed images from an <see cref="ImageBatchLoader"/>. Dispose it to free the tensor.</summary>
public sealed class ImageBatch : IDisposable
{
    internal ImageBatch(Tensor images, int startIndex, IReadOnlyList<string> paths)
    {
        Images = images;
        StartIndex = startIndex;
        Paths = paths;
    }

    /// <summary>The normalised images, float32 <c>[B, 3, H, W]</c>, in the order of <see cref="Paths"/>.</summary>
    public Tensor Images { get; }

    /// <summary>Position of the batch's first image in the loader's path list.</summary>
    public int StartIndex { get; }

    /// <summary>The image files of this batch, in order.</summary>
    public IReadOnlyList<string> Paths { get; }

    /// <summary>Number of images (B).</summary>
    public int Count => Paths.Count;

    /// <summary>Frees <see cref="Images"/>.</summary>
    public void Dispose() => Images.Dispose();
}
