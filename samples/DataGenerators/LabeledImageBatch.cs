namespace DataGenerators;

/// <summary>One batch of an <see cref="ImageCsvSequence"/>: images and their label rows. Dispose it to free both tensors.</summary>
public sealed class LabeledImageBatch : IDisposable
{
    internal LabeledImageBatch(Tensor images, Tensor labels, IReadOnlyList<string> paths)
    {
        Images = images;
        Labels = labels;
        Paths = paths;
    }

    /// <summary>The transformed images, float32 <c>[B, 3, H, W]</c>.</summary>
    public Tensor Images { get; }

    /// <summary>The label columns of the same rows, float32 <c>[B, k]</c>.</summary>
    public Tensor Labels { get; }

    /// <summary>The image files, in batch order.</summary>
    public IReadOnlyList<string> Paths { get; }

    /// <summary>Number of rows (B).</summary>
    public int Count => Paths.Count;

    /// <summary>Frees <see cref="Images"/> and <see cref="Labels"/>.</summary>
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
