using System.Buffers;
using ImageCaptioning.Vision;

namespace ImageCaptioning.Synthetic;

/// <summary>
/// What one synthetic image shows: a plain background and up to nine shapes, each alone in its grid cell, listed
/// in reading order (top row first, left to right). Captions are generated from these facts only.
/// </summary>
public sealed class SyntheticScene
{
    internal SyntheticScene(int imageSize, SyntheticColor background, SyntheticObject[] objects)
    {
        ImageSize = imageSize;
        Background = background;
        Objects = Array.AsReadOnly(objects);
    }

    /// <summary>Width and height of the square image in pixels.</summary>
    public int ImageSize { get; }

    /// <summary>The background colour (never named by captions).</summary>
    public SyntheticColor Background { get; }

    /// <summary>The shapes, in reading order of their cells.</summary>
    public IReadOnlyList<SyntheticObject> Objects { get; }

    /// <summary>Draws the scene. Dispose the image when done (its buffer is pooled).</summary>
    public RgbImage Render()
    {
        var byteCount = ImageSize * ImageSize * 3;
        var pixels = ArrayPool<byte>.Shared.Rent(byteCount);
        try
        {
            var canvas = new ShapeRasterizer(pixels.AsSpan(0, byteCount), ImageSize, ImageSize);
            canvas.Fill(Background);
            foreach (var item in Objects) canvas.Draw(item);
            // RgbImage's pixels are immutable once built, so the scene is drawn first and copied in.
            return RgbImage.FromPixels(ImageSize, ImageSize, pixels.AsSpan(0, byteCount));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(pixels);
        }
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Background.Name} background: " + string.Join("; ", Objects.Select(o => $"{o.Size} {o.Color.Name} {o.Shape} at {o.Position}"));
}
