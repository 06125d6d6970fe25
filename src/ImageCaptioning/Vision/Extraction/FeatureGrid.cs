namespace ImageCaptioning.Vision;

/// <summary>
/// The one layout of a grid of features in this library, shared by the grid extractors' rows and the trainable
/// encoders' outputs: the cells in row-major order, each cell's channels adjacent, as attention models read them.
/// </summary>
internal static class FeatureGrid
{
    /// <summary>A CNN's map <c>[B, C, H, W]</c> as cells <c>[B, H·W, C]</c>.</summary>
    public static Tensor Cells(Tensor map)
    {
        using var channelsLast = map.permute(0, 2, 3, 1);
        return channelsLast.reshape(map.size(0), map.size(2) * map.size(3), map.size(1));
    }

    /// <summary>
    /// The options of a grid extractor (the defaults when null) and the grid its transform's output size gives, or
    /// an error naming <paramref name="layer"/> when that size is below <paramref name="minimumSide"/>.
    /// </summary>
    public static (FeatureExtractorOptions Options, (int Height, int Width) Grid) ForTransform(FeatureExtractorOptions? options,
        string layer, int minimumSide, Func<int, int, (int Height, int Width)> grid)
    {
        options ??= new FeatureExtractorOptions();
        var size = options.Transform.FixedOutputSize!.Value;
        if (size.Height < minimumSide || size.Width < minimumSide)
            throw new ArgumentException($"the transform's output {size} is too small for {layer} (at least {minimumSide}x{minimumSide})", nameof(options));
        return (options, grid(size.Height, size.Width));
    }
}
