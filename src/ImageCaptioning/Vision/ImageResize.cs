namespace ImageCaptioning.Vision;

/// <summary>How <see cref="ImageResize"/> chooses the output size.</summary>
public enum ImageResizeMode
{
    /// <summary>To a fixed width and height, ignoring the aspect ratio: torchvision's <c>Resize((h, w))</c>.</summary>
    Exact,
    /// <summary>The shorter side to a length, keeping the aspect ratio: torchvision's <c>Resize(size)</c>.</summary>
    ShorterSide,
}

/// <summary>
/// A torchvision <c>Resize</c> step: antialiased bilinear resampling (what torchvision does to PIL images) to a
/// size chosen by <see cref="Mode"/>.
/// </summary>
public sealed record ImageResize
{
    private ImageResize(ImageResizeMode mode, ImageSize size, int shorterSide, int? maxSize)
    {
        Mode = mode;
        Size = size;
        ShorterSideLength = shorterSide;
        MaxSize = maxSize;
    }

    /// <summary>Resize to exactly <paramref name="width"/> × <paramref name="height"/> (torchvision <c>Resize((height, width))</c>).</summary>
    public static ImageResize To(int width, int height) =>
        new(ImageResizeMode.Exact, new ImageSize(width, height).Validated(nameof(width)), 0, null);

    /// <summary>
    /// Resize the shorter side to <paramref name="size"/> and the longer side in proportion, truncated like
    /// torchvision (<c>int(size * long / short)</c>); with <paramref name="maxSize"/>, the longer side is capped
    /// there and the shorter side shrunk in proportion (torchvision <c>Resize(size, max_size=...)</c>).
    /// </summary>
    public static ImageResize ShorterSideTo(int size, int? maxSize = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        if (maxSize is { } max && max <= size)
            throw new ArgumentOutOfRangeException(nameof(maxSize), maxSize, $"max size must be greater than the shorter-side size {size}");
        return new(ImageResizeMode.ShorterSide, default, size, maxSize);
    }

    /// <summary>Which rule picks the output size.</summary>
    public ImageResizeMode Mode { get; }

    /// <summary>The output size of an <see cref="ImageResizeMode.Exact"/> resize; default otherwise.</summary>
    public ImageSize Size { get; }

    /// <summary>The target shorter side of a <see cref="ImageResizeMode.ShorterSide"/> resize; 0 otherwise.</summary>
    public int ShorterSideLength { get; }

    /// <summary>The cap on the longer side of a <see cref="ImageResizeMode.ShorterSide"/> resize, if any.</summary>
    public int? MaxSize { get; }

    /// <summary>The size an <paramref name="input"/>-sized image is resized to (torchvision's rule, to the pixel).</summary>
    public ImageSize GetOutputSize(ImageSize input)
    {
        input.Validated(nameof(input));
        if (Mode == ImageResizeMode.Exact) return Size;

        var (shortSide, longSide) = input.Width <= input.Height ? (input.Width, input.Height) : (input.Height, input.Width);
        // Python's int(a * b / c): true division of exact integers, then truncation.
        var newShort = ShorterSideLength;
        var newLong = (int)((double)((long)ShorterSideLength * longSide) / shortSide);
        if (MaxSize is { } max && newLong > max)
        {
            newShort = (int)((double)((long)max * newShort) / newLong);
            newLong = max;
        }

        return input.Width <= input.Height ? new ImageSize(newShort, newLong) : new ImageSize(newLong, newShort);
    }

    /// <inheritdoc/>
    public override string ToString() => Mode == ImageResizeMode.Exact
        ? $"Resize to {Size}"
        : $"Resize shorter side to {ShorterSideLength}{(MaxSize is { } max ? $" (longer side at most {max})" : "")}";
}
