using ImageCaptioning.Concurrency;

namespace ImageCaptioning.Vision;

/// <summary>
/// Turns a list of image files into ready <c>[B, 3, H, W]</c> batches, decoding and resizing on worker threads
/// ahead of the consumer so that image preparation overlaps the model's compute. Batches come in list order.
/// Enumerate it as often as needed; each enumeration reads the files again.
/// </summary>
/// <remarks>
/// A file that cannot be read or decoded stops the enumeration, when its batch is reached, with an exception
/// naming the path (<see cref="ImageDecodeException"/> or the <see cref="IOException"/> of the file system). The
/// batches before it are delivered normally. Stopping early (break, exception, dispose) cancels and waits for the
/// prefetch and frees everything it prepared.
/// </remarks>
public sealed class ImageBatchLoader : IEnumerable<ImageBatch>
{
    private readonly string[] paths;

    /// <summary>Creates a loader over <paramref name="paths"/> applying <paramref name="transform"/>.</summary>
    public ImageBatchLoader(IEnumerable<string> paths, ImageTransform transform, ImageBatchLoaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(transform);
        this.paths = paths.ToArray();
        for (var i = 0; i < this.paths.Length; i++)
        {
            if (string.IsNullOrEmpty(this.paths[i]))
                throw new ArgumentException($"path {i} is null or empty", nameof(paths));
        }

        Transform = transform;
        Options = options ?? new ImageBatchLoaderOptions();
        if (transform.Options.FixedOutputSize is null)
            throw new ArgumentException("batching needs a transform with a fixed output size (an exact Resize or a CenterCrop)", nameof(transform));
    }

    /// <summary>The image files, in delivery order.</summary>
    public IReadOnlyList<string> Paths => paths;

    /// <summary>The per-image transform.</summary>
    public ImageTransform Transform { get; }

    /// <summary>Batching and threading settings.</summary>
    public ImageBatchLoaderOptions Options { get; }

    /// <summary>Number of batches an enumeration yields.</summary>
    public int BatchCount => (paths.Length + Options.BatchSize - 1) / Options.BatchSize;

    /// <summary>Enumerates the batches, observing <paramref name="cancellationToken"/> between images.</summary>
    public IEnumerable<ImageBatch> Enumerate(CancellationToken cancellationToken = default) =>
        Batches(paths, i => Prepare(() => ImageDecoder.Decode(paths[i], Options.Decoder), paths[i], Transform), Transform, Options,
            cancellationToken);

    /// <summary>
    /// The loop behind <see cref="Enumerate"/>, shared with extraction from streams: image <c>i</c> is prepared by
    /// <paramref name="prepare"/> on worker threads, in order and at most a window ahead, then stacked, moved and
    /// normalised per batch.
    /// </summary>
    internal static IEnumerable<ImageBatch> Batches(string[] names, Func<int, Tensor> prepare, ImageTransform transform,
        ImageBatchLoaderOptions options, CancellationToken cancellationToken)
    {
        var window = options.BatchSize * (options.PrefetchBatches + 1);
        var prepared = OrderedPrefetch.Run(names.Length, prepare, options.DecodeThreads, window, cancellationToken);
        using var images = prepared.GetEnumerator();
        for (var start = 0; start < names.Length; start += options.BatchSize)
        {
            var count = Math.Min(options.BatchSize, names.Length - start);
            var members = new List<Tensor>(count);
            ImageBatch batch;
            try
            {
                while (members.Count < count && images.MoveNext()) members.Add(images.Current);
                using var scope = torch.NewDisposeScope();
                var pixels = torch.stack(members);
                if (options.Device.type != DeviceType.CPU) pixels = pixels.to(options.Device);
                batch = new ImageBatch(transform.Normalize(pixels).MoveToOuterDisposeScope(), start, names[start..(start + count)]);
            }
            finally
            {
                foreach (var member in members) member.Dispose();
            }

            yield return batch;
        }
    }

    /// <inheritdoc/>
    public IEnumerator<ImageBatch> GetEnumerator() => Enumerate().GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>
    /// Decodes <paramref name="paths"/> on <paramref name="decodeThreads"/> worker threads, at most
    /// <paramref name="window"/> images ahead of the consumer, yielding them in order. The consumer owns (and
    /// disposes) each yielded image; images prefetched but never consumed are disposed when the enumeration ends.
    /// The paths are taken from <paramref name="paths"/> when this is called.
    /// </summary>
    public static IEnumerable<RgbImage> DecodeInOrder(
        IEnumerable<string> paths, int decodeThreads, int window, ImageDecoderOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentOutOfRangeException.ThrowIfLessThan(decodeThreads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        var files = paths.ToArray();
        return OrderedPrefetch.Run(files.Length, i => ImageDecoder.Decode(files[i], options), decodeThreads, window, cancellationToken);
    }

    /// <summary>Worker-thread step: decode and resize/crop to 8-bit <c>[3, H, W]</c> on the CPU.</summary>
    internal static Tensor Prepare(Func<RgbImage> decode, string name, ImageTransform transform)
    {
        using var image = decode();
        try
        {
            // Worker threads have no dispose scope of the consumer's; this one frees the intermediates.
            using var scope = torch.NewDisposeScope();
            return transform.Geometry(image, torch.CPU).contiguous().MoveToOuterDisposeScope();
        }
        catch (ExternalException exception)
        {
            throw new InvalidOperationException($"Preprocessing image '{name}' failed: {exception.Message}", exception);
        }
    }
}
