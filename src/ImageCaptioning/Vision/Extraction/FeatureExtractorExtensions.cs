
namespace ImageCaptioning.Vision;

/// <summary>
/// Whole-list extraction on top of <see cref="IFeatureExtractor.ExtractBatches(IReadOnlyList{string}, IProgress{ExtractionProgress}?, CancellationToken)"/>,
/// and extraction from images already decoded (by this library or another one, through
/// <see cref="RgbImage.FromPixels(ReadOnlySpan{byte}, int, int, int, RawPixelFormat, string?)"/>).
/// </summary>
public static class FeatureExtractorExtensions
{
    /// <summary>
    /// Extracts the features of decoded images into one <c>[N, Dimension]</c> result, transforming them with the
    /// extractor's <see cref="FeatureExtractorOptions.Transform"/> in batches of <see cref="FeatureExtractorOptions.BatchSize"/>.
    /// The caller keeps ownership of the images.
    /// </summary>
    public static ExtractedFeatures Extract(this IFeatureExtractor extractor, IReadOnlyList<RgbImage> images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(extractor);
        ArgumentNullException.ThrowIfNull(images);
        var transform = new ImageTransform(extractor.Options.Transform);
        var batchSize = extractor.Options.BatchSize;
        var values = new float[checked((long)images.Count * extractor.Dimension)];
        var sources = new string[images.Count];
        for (var start = 0; start < images.Count; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var members = new RgbImage[Math.Min(batchSize, images.Count - start)];
            for (var i = 0; i < members.Length; i++)
            {
                members[i] = images[start + i] ?? throw new ArgumentException($"image {start + i} is null", nameof(images));
                sources[start + i] = members[i].Source ?? $"image {start + i}";
            }
            using var scope = torch.NewDisposeScope();
            using var output = extractor.Forward(transform.Apply(members, extractor.Device));
            output.CopyTo<float>(values.AsSpan(start * extractor.Dimension, members.Length * extractor.Dimension));
        }
        return new ExtractedFeatures(0, Array.AsReadOnly(sources), extractor.Dimension, values);
    }

    /// <summary>
    /// The features of one image given as raw pixels: <paramref name="height"/> rows <paramref name="stride"/> bytes
    /// apart of <paramref name="width"/> pixels in <paramref name="format"/>, as ImageSharp, System.Drawing, OpenCvSharp
    /// or SkiaSharp hold them.
    /// </summary>
    public static float[] Extract(this IFeatureExtractor extractor, ReadOnlySpan<byte> pixels, int width, int height, int stride, RawPixelFormat format)
    {
        ArgumentNullException.ThrowIfNull(extractor);
        using var image = RgbImage.FromPixels(pixels, width, height, stride, format);
        return extractor.Extract([image]).Values.ToArray();
    }

    /// <summary>Extracts the features of every image into one <c>[N, Dimension]</c> result.</summary>
    /// <exception cref="ImageDecodeException">An image is corrupt or unsupported; the message names it.</exception>
    public static ExtractedFeatures Extract(this IFeatureExtractor extractor, IReadOnlyList<string> imagePaths,
        IProgress<ExtractionProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(extractor);
        ArgumentNullException.ThrowIfNull(imagePaths);
        return Collect(extractor.Dimension, imagePaths.Count, extractor.ExtractBatches(imagePaths, progress, cancellationToken));
    }

    /// <summary>Extracts the features of every encoded image in <paramref name="images"/> into one <c>[N, Dimension]</c> result.</summary>
    /// <exception cref="ImageDecodeException">An image is corrupt or unsupported; the message names it.</exception>
    public static ExtractedFeatures Extract(this IFeatureExtractor extractor, IReadOnlyList<Stream> images,
        IProgress<ExtractionProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(extractor);
        ArgumentNullException.ThrowIfNull(images);
        return Collect(extractor.Dimension, images.Count, extractor.ExtractBatches(images, progress, cancellationToken));
    }

    private static ExtractedFeatures Collect(int dimension, int count, IEnumerable<ExtractedFeatures> batches)
    {
        var values = new float[checked((long)count * dimension)];
        var sources = new string[count];
        foreach (var batch in batches)
        {
            batch.Values.Span.CopyTo(values.AsSpan(batch.StartIndex * dimension));
            for (var i = 0; i < batch.Count; i++) sources[batch.StartIndex + i] = batch.Sources[i];
        }

        return new ExtractedFeatures(0, Array.AsReadOnly(sources), dimension, values);
    }
}
