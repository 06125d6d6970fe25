using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ImageCaptioning.Vision;

/// <summary>
/// VGG16's conv5_3 feature map after its ReLU (torchvision <c>features[:30]</c>), for attention models: a grid of
/// <see cref="GridHeight"/> × <see cref="GridWidth"/> locations (14 × 14 for 224 × 224 inputs) of
/// <see cref="Channels"/> values. A row holds the locations in row-major order, each location's 512 channels
/// together: <c>[H/16, W/16, 512]</c> flattened, so reshaping a row to <c>[locations, 512]</c> gives the
/// annotation vectors.
/// </summary>
/// <remarks>
/// A full torchvision VGG16 state_dict loads as it is: its <c>classifier.*</c> weights are skipped; every
/// <c>features.*</c> key must match exactly and no other key may appear.
/// </remarks>
public sealed class Vgg16SpatialFeatureExtractor : FeatureExtractor
{
    /// <summary>conv5_3's channels.</summary>
    public const int Channels = 512;

    private static readonly IReadOnlySet<string> IgnoredKeys = new HashSet<string>(
        from layer in new[] { 0, 3, 6 } from kind in new[] { "weight", "bias" } select $"classifier.{layer}.{kind}",
        StringComparer.Ordinal);

    private Vgg16SpatialFeatureExtractor(Vgg16 network, (int Height, int Width) grid, FeatureExtractorOptions options, ILogger? logger)
        : base(network, "vgg16-conv5_3", checked(grid.Height * grid.Width * Channels), options, logger)
    {
        (GridHeight, GridWidth) = grid;
    }

    /// <summary>Rows of the feature grid (input height / 16, rounded down at each pool).</summary>
    public int GridHeight { get; }

    /// <summary>Columns of the feature grid.</summary>
    public int GridWidth { get; }

    /// <summary>Loads the <c>features.*</c> weights of a torchvision VGG16 from a <c>.pth</c> (zip or legacy) or <c>.safetensors</c> file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ImageCaptioning.Torch.Serialization.StateDictMismatchException">The file's keys or shapes are not VGG16's; all problems are listed.</exception>
    public static Vgg16SpatialFeatureExtractor FromFile(string path, FeatureExtractorOptions? options = null, ILogger? logger = null)
    {
        logger ??= NullLogger.Instance;
        options ??= new FeatureExtractorOptions();
        var grid = GridFor(options);
        var network = new Vgg16(Vgg16Output.Conv5_3);
        try
        {
            NetworkWeights.Load(network, path, IgnoredKeys, logger);
            return new Vgg16SpatialFeatureExtractor(network, grid, options, logger);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>Loads torchvision's ImageNet VGG16 weights (<see cref="PretrainedWeights.Vgg16FileName"/>) from the torch hub cache.</summary>
    /// <exception cref="PretrainedWeightsNotFoundException">The file is not there; the message says where it is expected and how to obtain it.</exception>
    public static Vgg16SpatialFeatureExtractor FromDefaultLocation(FeatureExtractorOptions? options = null, ILogger? logger = null) =>
        FromFile(PretrainedWeights.Locate("VGG16", "torchvision.models.vgg16(weights='IMAGENET1K_V1')", [PretrainedWeights.Vgg16FileName]), options, logger);

    /// <summary>An extractor with random weights (seeded): for tests and demos only. Logs a warning saying so.</summary>
    public static Vgg16SpatialFeatureExtractor CreateRandom(int seed, ILogger? logger = null, FeatureExtractorOptions? options = null)
    {
        logger ??= NullLogger.Instance;
        options ??= new FeatureExtractorOptions();
        var grid = GridFor(options);
        var network = new Vgg16(Vgg16Output.Conv5_3);
        NetworkWeights.InitializeLikeTorchvision(network, seed, normalLinear: true);
        logger.LogWarning("VGG16 spatial feature extractor with RANDOM weights (seed {Seed}): its features are meaningless; use it for tests and demos only", seed);
        return new Vgg16SpatialFeatureExtractor(network, grid, options, logger);
    }

    /// <inheritdoc />
    protected override Tensor Flatten(Tensor output)
    {
        // [B, C, H, W] → [B, H, W, C] → [B, H·W·C]: each location's channels adjacent, as attention models read them.
        using var channelsLast = output.permute(0, 2, 3, 1);
        using (output)
            return channelsLast.contiguous().reshape(output.shape[0], -1);
    }

    private static (int Height, int Width) GridFor(FeatureExtractorOptions options)
    {
        var size = options.Transform.FixedOutputSize!.Value;
        // Four 2×2 max-pools (floor) precede conv5_3.
        var grid = (size.Height >> 4, size.Width >> 4);
        if (grid.Item1 < 1 || grid.Item2 < 1)
            throw new ArgumentException($"the transform's output {size} is too small for VGG16's conv5_3 (at least 16x16)", nameof(options));
        return grid;
    }
}
