
namespace ImageCaptioning.Vision;

/// <summary>
/// Turns images into fixed-length feature vectors with a pretrained CNN, in eval mode without gradients, on
/// <see cref="Device"/>. Batches are decoded on worker threads while the network runs on the previous one.
/// </summary>
public interface IFeatureExtractor : IDisposable
{
    /// <summary>A short stable name of the network and layer, e.g. <c>vgg16-fc7</c>; feature stores record it.</summary>
    string Name { get; }

    /// <summary>Floats per image.</summary>
    int Dimension { get; }

    /// <summary>Preprocessing, batching and device settings.</summary>
    FeatureExtractorOptions Options { get; }

    /// <summary>Where the network runs.</summary>
    Device Device { get; }

    /// <summary>
    /// Runs the network on already transformed images <c>[B, 3, H, W]</c> (any device) and returns
    /// <c>[B, <see cref="Dimension"/>]</c> float32 on <see cref="Device"/>; the caller owns it.
    /// </summary>
    Tensor Forward(Tensor images);

    /// <summary>
    /// Extracts the features of <paramref name="imagePaths"/> batch by batch, in order. Each batch is computed when
    /// the enumeration reaches it; abandoning the enumeration stops the decoding.
    /// </summary>
    /// <exception cref="ImageDecodeException">An image is corrupt or unsupported; the message names it.</exception>
    IEnumerable<ExtractedFeatures> ExtractBatches(IReadOnlyList<string> imagePaths, IProgress<ExtractionProgress>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// As <see cref="ExtractBatches(IReadOnlyList{string}, IProgress{ExtractionProgress}?, CancellationToken)"/> over
    /// encoded images in streams (each read from its current position to its end; the caller keeps ownership).
    /// </summary>
    IEnumerable<ExtractedFeatures> ExtractBatches(IReadOnlyList<Stream> images, IProgress<ExtractionProgress>? progress = null, CancellationToken cancellationToken = default);
}
