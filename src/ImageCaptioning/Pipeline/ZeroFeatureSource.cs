using ImageCaptioning.Data;

namespace ImageCaptioning.Pipeline;

/// <summary>The same images as another source, with every feature row zero: the "no image" control.</summary>
internal sealed class ZeroFeatureSource(IFeatureSource inner) : IFeatureSource
{
    public IReadOnlyList<string> ImageIds => inner.ImageIds;

    public int Dimension => inner.Dimension;

    public bool TryGetRow(string imageId, out int row) => inner.TryGetRow(imageId, out row);

    public void Read(int row, Span<float> destination) => destination.Clear();
}
