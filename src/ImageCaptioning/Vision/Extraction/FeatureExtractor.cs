using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ImageCaptioning.Vision;

/// <summary>
/// The common half of the CNN extractors: batching with decode prefetch, the forward pass in eval mode without
/// gradients on <see cref="Device"/>, and progress. Subclasses supply the network and the shape of its output.
/// </summary>
public abstract class FeatureExtractor : IFeatureExtractor
{
    /// <summary>How often progress goes to the log at information level (every batch goes to the <c>IProgress</c>).</summary>
    private static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);

    private readonly torch.nn.Module<Tensor, Tensor> network;
    private readonly ImageTransform transform;
    private bool disposed;

    /// <summary>
    /// Takes ownership of <paramref name="network"/> (loaded, on any device), moves it to the options' device and
    /// puts it in eval mode.
    /// </summary>
    protected FeatureExtractor(torch.nn.Module<Tensor, Tensor> network, string name, int dimension, FeatureExtractorOptions? options, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        Options = options ?? new FeatureExtractorOptions();
        Device = Options.ResolveDevice();
        Name = name;
        Dimension = dimension;
        Logger = logger ?? NullLogger.Instance;
        transform = new ImageTransform(Options.Transform);
        network.to(Device);
        network.eval();
        this.network = network;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public int Dimension { get; }

    /// <inheritdoc />
    public FeatureExtractorOptions Options { get; }

    /// <inheritdoc />
    public Device Device { get; }

    /// <summary>Where progress and warnings go.</summary>
    protected ILogger Logger { get; }

    /// <inheritdoc />
    public Tensor Forward(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        ObjectDisposedException.ThrowIf(disposed, this);
        var shape = images.shape;
        if (shape.Length != 4 || shape[1] != 3)
            throw new ArgumentException($"expected transformed images [B, 3, H, W] but got [{string.Join(", ", shape)}]", nameof(images));

        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var input = images.device == Device ? images : images.to(Device);
        var features = Flatten(network.forward(input));
        var produced = features.shape;
        if (produced.Length != 2 || produced[1] != Dimension)
            throw new ArgumentException(
                $"{Name} produced [{string.Join(", ", produced)}] for images [{string.Join(", ", shape)}] but its dimension is {Dimension}; use images of the size of the extractor's transform",
                nameof(images));
        return features.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public IEnumerable<ExtractedFeatures> ExtractBatches(IReadOnlyList<string> imagePaths, IProgress<ExtractionProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(imagePaths);
        ObjectDisposedException.ThrowIf(disposed, this);
        var loader = new ImageBatchLoader(imagePaths, transform, LoaderOptions());
        return Run(loader.Enumerate(cancellationToken), imagePaths.Count, progress);
    }

    /// <inheritdoc />
    public IEnumerable<ExtractedFeatures> ExtractBatches(IReadOnlyList<Stream> images, IProgress<ExtractionProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        ObjectDisposedException.ThrowIf(disposed, this);
        for (var i = 0; i < images.Count; i++)
            if (images[i] is null) throw new ArgumentException($"stream {i} is null", nameof(images));
        var names = images.Select((s, i) => s is FileStream file ? file.Name : $"stream {i}").ToArray();
        var batches = ImageBatchLoader.Batches(names,
            i => ImageBatchLoader.Prepare(() => ImageDecoder.Decode(images[i], names[i], Options.Decoder), names[i], transform),
            transform, LoaderOptions(), cancellationToken);
        return Run(batches, images.Count, progress);
    }

    /// <summary>Turns the network's output into <c>[B, Dimension]</c> rows (the identity for vector outputs).</summary>
    protected virtual Tensor Flatten(Tensor output) => output;

    /// <summary>Frees the network.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the network's tensors.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposed || !disposing) return;
        disposed = true;
        network.Dispose();
    }

    private ImageBatchLoaderOptions LoaderOptions() => new()
    {
        BatchSize = Options.BatchSize,
        DecodeThreads = Options.DecodeThreads,
        PrefetchBatches = Options.PrefetchBatches,
        Device = Device,
        Decoder = Options.Decoder,
    };

    private IEnumerable<ExtractedFeatures> Run(IEnumerable<ImageBatch> batches, int total, IProgress<ExtractionProgress>? progress)
    {
        var clock = Stopwatch.StartNew();
        var done = 0;
        var lastLogged = TimeSpan.Zero;
        Logger.LogDebug("{Extractor}: extracting {Total} images on {Device}, batch {BatchSize}", Name, total, Device, Options.BatchSize);
        foreach (var batch in batches)
        {
            ExtractedFeatures features;
            using (batch)
            {
                using var output = Forward(batch.Images);
                var values = new float[checked(batch.Paths.Count * Dimension)];
                using (var host = output.device.type == DeviceType.CPU ? output.contiguous() : output.to(torch.CPU))
                    host.CopyTo<float>(values);
                features = new ExtractedFeatures(batch.StartIndex, batch.Paths, Dimension, values);
            }

            done += features.Count;
            var report = new ExtractionProgress(done, total, clock.Elapsed);
            progress?.Report(report);
            if (done == total || report.Elapsed - lastLogged >= LogInterval)
            {
                lastLogged = report.Elapsed;
                Logger.LogInformation("{Extractor}: {Progress}", Name, report);
            }

            yield return features;
        }
    }
}
