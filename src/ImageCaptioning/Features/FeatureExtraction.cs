using System.Diagnostics;
using ImageCaptioning.Vision;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ImageCaptioning.Features;

/// <summary>An image to extract: the id its row is stored under and the file to read.</summary>
/// <param name="ImageId">The row's id (for Flickr8k, the file name).</param>
/// <param name="Path">The image file.</param>
public readonly record struct ExtractionInput(string ImageId, string Path);

/// <summary>What a <see cref="FeatureExtraction.Run(IFeatureExtractor, IReadOnlyList{ExtractionInput}, FeatureStore, IProgress{ExtractionProgress}?, ILogger?, CancellationToken)"/> did.</summary>
/// <param name="Requested">Images asked for.</param>
/// <param name="Skipped">Images already in the store, not extracted again.</param>
/// <param name="Extracted">Images extracted and committed by this run.</param>
/// <param name="Elapsed">Wall-clock time of the run.</param>
public sealed record FeatureExtractionResult(int Requested, int Skipped, int Extracted, TimeSpan Elapsed)
{
    /// <summary>Images extracted per second, decode included.</summary>
    public double ImagesPerSecond => Extracted == 0 || Elapsed <= TimeSpan.Zero ? 0 : Extracted / Elapsed.TotalSeconds;
}

/// <summary>Fills a <see cref="FeatureStore"/> with an extractor's features, resumably.</summary>
public static class FeatureExtraction
{
    /// <summary>Extracts the images whose file names (the ids) are not yet in <paramref name="store"/>.</summary>
    public static FeatureExtractionResult Run(IFeatureExtractor extractor, IReadOnlyList<string> imagePaths, FeatureStore store,
        IProgress<ExtractionProgress>? progress = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(imagePaths);
        return Run(extractor, imagePaths.Select(p => new ExtractionInput(Path.GetFileName(p), p)).ToArray(), store, progress, logger, cancellationToken);
    }

    /// <summary>
    /// Extracts every image whose id is not yet in <paramref name="store"/> and appends it, committing batch by
    /// batch: cancelling, a failure or a killed process loses at most the batch in flight, and running again with
    /// the same inputs finishes the job.
    /// </summary>
    /// <exception cref="FeatureStoreException">The store holds features of another dimension, extractor or preprocessing.</exception>
    /// <exception cref="ArgumentException">An id is listed twice.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the batches before are committed.</exception>
    public static FeatureExtractionResult Run(IFeatureExtractor extractor, IReadOnlyList<ExtractionInput> images, FeatureStore store,
        IProgress<ExtractionProgress>? progress = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(extractor);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(store);
        logger ??= NullLogger.Instance;
        CheckCompatible(extractor, store);

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new List<ExtractionInput>();
        foreach (var image in images)
        {
            if (string.IsNullOrEmpty(image.ImageId) || string.IsNullOrEmpty(image.Path))
                throw new ArgumentException("every input needs an image id and a path", nameof(images));
            if (!seen.Add(image.ImageId)) throw new ArgumentException($"image '{image.ImageId}' is listed twice", nameof(images));
            if (!store.Contains(image.ImageId)) pending.Add(image);
        }

        var clock = Stopwatch.StartNew();
        var skipped = images.Count - pending.Count;
        logger.LogInformation("{Extractor} → {Store}: {Pending} images to extract, {Skipped} already stored", extractor.Name, store.Directory, pending.Count, skipped);
        var extracted = 0;
        var paths = pending.Select(p => p.Path).ToArray();
        foreach (var batch in extractor.ExtractBatches(paths, progress, cancellationToken))
        {
            var ids = new string[batch.Count];
            for (var i = 0; i < ids.Length; i++) ids[i] = pending[batch.StartIndex + i].ImageId;
            store.Append(ids, batch.Values.Span);
            extracted += batch.Count;
            cancellationToken.ThrowIfCancellationRequested();
        }

        var result = new FeatureExtractionResult(images.Count, skipped, extracted, clock.Elapsed);
        logger.LogInformation("{Extractor} → {Store}: extracted {Extracted} images in {Elapsed} ({Rate:F1} images/s); the store holds {Count}",
            extractor.Name, store.Directory, extracted, result.Elapsed, result.ImagesPerSecond, store.Count);
        return result;
    }

    private static void CheckCompatible(IFeatureExtractor extractor, FeatureStore store)
    {
        if (store.IsReadOnly)
            throw new InvalidOperationException($"the feature store {store.Directory} was opened read-only; open it with FeatureStore.OpenOrCreate");
        if (store.Dimension != extractor.Dimension)
            throw new FeatureStoreException(store.IndexPath, $"the store holds {store.Dimension}-d features but {extractor.Name} makes {extractor.Dimension}-d ones");
        if (store.Extractor is { } name && name != extractor.Name)
            throw new FeatureStoreException(store.IndexPath, $"the store holds features of '{name}', not '{extractor.Name}'");
        var preprocessing = extractor.Options.DescribePreprocessing();
        if (store.Preprocessing is { } recorded && recorded != preprocessing)
            throw new FeatureStoreException(store.IndexPath, $"the store's features were made with '{recorded}', not '{preprocessing}'");
    }
}
