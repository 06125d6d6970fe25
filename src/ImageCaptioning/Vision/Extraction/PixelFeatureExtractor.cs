using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Vision;

/// <summary>
/// The transformed pixels themselves as features: each row is the image after the options'
/// <see cref="FeatureExtractorOptions.Transform"/> (resize, crop, <c>ToTensor</c>, <c>Normalize</c>), flattened in
/// <c>[3, H, W]</c> order, <see cref="FeatureExtractor.Dimension"/> = 3·H·W. The feature store, the datasets and the
/// batches then carry pixels to an encoder that trains inside the caption model, which computes its features per
/// batch.
/// </summary>
public sealed class PixelFeatureExtractor : FeatureExtractor
{
    /// <summary>
    /// An extractor of the pixels that <paramref name="options"/>' transform makes, named <c>pixels-WxH</c> (e.g.
    /// <c>pixels-64x64</c>); the feature store records the normalisation beside the name.
    /// </summary>
    public PixelFeatureExtractor(FeatureExtractorOptions? options = null, ILogger? logger = null)
        : base(torch.nn.Flatten(), $"pixels-{SizeOf(options)}", DimensionOf(SizeOf(options)), options, logger)
    {
        Size = SizeOf(options);
    }

    /// <summary>The size of the transformed images.</summary>
    public ImageSize Size { get; }

    /// <exception cref="ArgumentOutOfRangeException">An image of that size has more values than a feature row can hold.</exception>
    private static int DimensionOf(ImageSize size)
    {
        var values = 3L * size.Width * size.Height;
        return values <= Array.MaxLength
            ? (int)values
            : throw new ArgumentOutOfRangeException("options", size, $"a {size} image has {values} values, more than a feature row can hold ({Array.MaxLength})");
    }

    private static ImageSize SizeOf(FeatureExtractorOptions? options) => (options ?? new FeatureExtractorOptions()).Transform.FixedOutputSize!.Value;
}
