namespace ImageCaptioning.Synthetic;

/// <summary>One shape of a synthetic scene: the facts captions state and where it was drawn.</summary>
/// <param name="Shape">The kind of shape.</param>
/// <param name="Color">Its fill colour.</param>
/// <param name="Size">Its size class.</param>
/// <param name="Position">The grid cell it lies in.</param>
/// <param name="CenterX">Horizontal centre in pixels from the left edge (pixel centres are at x + 0.5).</param>
/// <param name="CenterY">Vertical centre in pixels from the top edge.</param>
/// <param name="Radius">Radius in pixels of the circle the shape is inscribed in; the shape stays inside its cell.</param>
public sealed record SyntheticObject(
    SyntheticShape Shape,
    SyntheticColor Color,
    SyntheticSize Size,
    SyntheticPosition Position,
    double CenterX,
    double CenterY,
    double Radius)
{
    /// <summary>The grid row of <see cref="Position"/>: 0 top, 1 middle, 2 bottom.</summary>
    public int Row => (int)Position / 3;

    /// <summary>The grid column of <see cref="Position"/>: 0 left, 1 middle, 2 right.</summary>
    public int Column => (int)Position % 3;
}
