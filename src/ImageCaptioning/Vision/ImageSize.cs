namespace ImageCaptioning.Vision;

/// <summary>An image's size in pixels. Note the .NET order (width, height); torchvision writes (height, width).</summary>
/// <param name="Width">Columns.</param>
/// <param name="Height">Rows.</param>
public readonly record struct ImageSize(int Width, int Height)
{
    /// <summary>Throws unless both sides are positive.</summary>
    internal ImageSize Validated(string parameterName)
    {
        if (Width < 1 || Height < 1)
            throw new ArgumentOutOfRangeException(parameterName, this, "an image size needs a positive width and height");
        return this;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Width}x{Height}";
}
