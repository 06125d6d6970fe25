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
        var image = RgbImage.Allocate(ImageSize, ImageSize, source: null);
        var canvas = new ShapeRasterizer(image.WritableBuffer, ImageSize, ImageSize);
        canvas.Fill(Background);
        foreach (var item in Objects) canvas.Draw(item);
        return image;
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Background.Name} background: " + string.Join("; ", Objects.Select(o => $"{o.Size} {o.Color.Name} {o.Shape} at {o.Position}"));
}
