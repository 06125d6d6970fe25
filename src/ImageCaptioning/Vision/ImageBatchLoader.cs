using ImageCaptioning.Torch;

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
    public IEnumerable<ImageBatch> Enumerate(CancellationToken cancellationToken = default)
    {
        var window = Options.BatchSize * (Options.PrefetchBatches + 1);
        var prepared = OrderedPrefetch.Run(paths, Prepare, Options.DecodeThreads, window, cancellationToken);
        using var images = prepared.GetEnumerator();
        for (var start = 0; start < paths.Length; start += Options.BatchSize)
        {
            var count = Math.Min(Options.BatchSize, paths.Length - start);
            var members = new List<Tensor>(count);
            ImageBatch batch;
            try
            {
                while (members.Count < count && images.MoveNext()) members.Add(images.Current);
                batch = Assemble(members, start);
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
    /// </summary>
    public static IEnumerable<RgbImage> DecodeInOrder(
        IEnumerable<string> paths, int decodeThreads, int window, ImageDecoderOptions? options = null, CancellationToken cancellationToken = default) =>
        OrderedPrefetch.Run(paths, path => ImageDecoder.Decode(path, options), decodeThreads, window, cancellationToken);

    /// <summary>Worker-thread step: decode and resize/crop to 8-bit <c>[3, H, W]</c> on the CPU.</summary>
    private Tensor Prepare(string path)
    {
        using var image = ImageDecoder.Decode(path, Options.Decoder);
        try
        {
            // Worker threads have no dispose scope of the consumer's; this one frees the intermediates.
            using var scope = torch.NewDisposeScope();
            return Transform.Geometry(image, Device.Cpu).contiguous().MoveToOuterDisposeScope();
        }
        catch (TorchException exception)
        {
            throw new InvalidOperationException($"Preprocessing image '{path}' failed: {exception.Message}", exception);
        }
    }

    private ImageBatch Assemble(List<Tensor> members, int start)
    {
        using var scope = torch.NewDisposeScope();
        var pixels = torch.stack(members);
        if (!Options.Device.IsCpu) pixels = pixels.to(Options.Device);
        var images = Transform.Normalize(pixels).MoveToOuterDisposeScope();
        return new ImageBatch(images, start, paths[start..(start + members.Count)]);
    }
}
