using Microsoft.Extensions.Logging;

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

    private static readonly CnnRecipe<Vgg16> Recipe = Vgg16FeatureExtractor.Recipe("VGG16 spatial", Vgg16Output.Conv5_3, new HashSet<string>(
        from layer in new[] { 0, 3, 6 } from kind in new[] { "weight", "bias" } select $"classifier.{layer}.{kind}",
        StringComparer.Ordinal));

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
        var (resolved, grid) = GridFor(options);
        return Recipe.FromFile(path, logger, (network, log) => new Vgg16SpatialFeatureExtractor(network, grid, resolved, log));
    }

    /// <summary>Loads torchvision's ImageNet VGG16 weights (<see cref="PretrainedWeights.Vgg16FileName"/>) from the torch hub cache.</summary>
    /// <exception cref="PretrainedWeightsNotFoundException">The file is not there; the message says where it is expected and how to obtain it.</exception>
    public static Vgg16SpatialFeatureExtractor FromDefaultLocation(FeatureExtractorOptions? options = null, ILogger? logger = null)
    {
        var (resolved, grid) = GridFor(options);
        return Recipe.FromDefaultLocation(logger, (network, log) => new Vgg16SpatialFeatureExtractor(network, grid, resolved, log));
    }

    /// <summary>An extractor with random weights (seeded): for tests and demos only. Logs a warning saying so.</summary>
    public static Vgg16SpatialFeatureExtractor CreateRandom(int seed, FeatureExtractorOptions? options = null, ILogger? logger = null)
    {
        var (resolved, grid) = GridFor(options);
        return Recipe.CreateRandom(seed, logger, (network, log) => new Vgg16SpatialFeatureExtractor(network, grid, resolved, log));
    }

    /// <inheritdoc />
    protected override Tensor Flatten(Tensor output)
    {
        // [B, C, H, W] → [B, H, W, C] → [B, H·W·C]: each location's channels adjacent, as attention models read them.
        using var channelsLast = output.permute(0, 2, 3, 1);
        using (output)
            return channelsLast.contiguous().reshape(output.shape[0], -1);
    }

    private static (FeatureExtractorOptions Options, (int Height, int Width) Grid) GridFor(FeatureExtractorOptions? options)
    {
        options ??= new FeatureExtractorOptions();
        var size = options.Transform.FixedOutputSize!.Value;
        // Four 2×2 max-pools (floor) precede conv5_3.
        var grid = (size.Height >> 4, size.Width >> 4);
        if (grid.Item1 < 1 || grid.Item2 < 1)
            throw new ArgumentException($"the transform's output {size} is too small for VGG16's conv5_3 (at least 16x16)", nameof(options));
        return (options, grid);
    }
}
