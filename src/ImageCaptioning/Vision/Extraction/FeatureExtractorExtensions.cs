namespace ImageCaptioning.Vision;

/// <summary>Whole-list extraction on top of <see cref="IFeatureExtractor.ExtractBatches(IReadOnlyList{string}, IProgress{ExtractionProgress}?, CancellationToken)"/>.</summary>
public static class FeatureExtractorExtensions
{
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
