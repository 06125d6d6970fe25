using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Vision;

/// <summary>
/// ResNet-50's last block, <c>layer4</c>, before the average pool (torchvision <c>children()[:-2]</c>), for attention
/// models: a grid of <see cref="GridFeatureExtractor.GridHeight"/> × <see cref="GridFeatureExtractor.GridWidth"/>
/// cells (7 × 7 for 224 × 224 inputs) of <see cref="Channels"/> values, laid out as
/// <see cref="Vgg16SpatialFeatureExtractor"/>'s: <c>[H/32, W/32, 2048]</c> flattened, each side rounded up at every
/// halving.
/// </summary>
/// <remarks>
/// A full torchvision ResNet-50 state_dict loads as it is: its <c>fc.weight</c>/<c>bias</c> are skipped; every other
/// key must match exactly (strict loading).
/// </remarks>
public sealed class ResNet50SpatialFeatureExtractor : GridFeatureExtractor
{
    /// <summary><c>layer4</c>'s channels.</summary>
    public const int Channels = ResNet50.PooledChannels;

    /// <summary>The network and its weights, shared with the trainable encoder that fine-tunes it.</summary>
    internal static readonly CnnRecipe<ResNet50> Recipe = ResNet50FeatureExtractor.ResNet50Recipe("ResNet-50 spatial", ResNet50Output.Layer4);

    private ResNet50SpatialFeatureExtractor(ResNet50 network, (int Height, int Width) grid, FeatureExtractorOptions options, ILogger? logger)
        : base(network, "resnet50-layer4", grid, Channels, options, logger)
    {
    }

    /// <summary>Loads the weights of a torchvision ResNet-50 from a <c>.pth</c> (zip or legacy) or <c>.safetensors</c> file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ImageCaptioning.Torch.Serialization.StateDictMismatchException">The file's keys or shapes are not ResNet-50's; all problems are listed.</exception>
    public static ResNet50SpatialFeatureExtractor FromFile(string path, FeatureExtractorOptions? options = null, ILogger? logger = null) =>
        Create(CnnWeights.FromFile(path), options, logger);

    /// <summary>
    /// Loads torchvision's ImageNet weights (IMAGENET1K_V1, <see cref="PretrainedWeights.ResNet50FileNames"/>) from
    /// the torch hub cache.
    /// </summary>
    /// <exception cref="PretrainedWeightsNotFoundException">The file is not there; the message says where it is expected and how to obtain it.</exception>
    public static ResNet50SpatialFeatureExtractor FromDefaultLocation(FeatureExtractorOptions? options = null, ILogger? logger = null) =>
        Create(CnnWeights.HubCache, options, logger);

    /// <summary>An extractor with random weights (torchvision's initialisation, seeded): for tests and demos only. Logs a warning saying so.</summary>
    public static ResNet50SpatialFeatureExtractor CreateRandom(int seed, FeatureExtractorOptions? options = null, ILogger? logger = null) =>
        Create(CnnWeights.Random(seed), options, logger);

    /// <summary>The extractor with <paramref name="weights"/>, as <see cref="FeatureNetworks"/> builds it.</summary>
    internal static ResNet50SpatialFeatureExtractor Create(CnnWeights weights, FeatureExtractorOptions? options, ILogger? logger)
    {
        // Below 32 pixels a side the stride-32 network has less than one pixel per cell.
        var (resolved, grid) = FeatureGrid.ForTransform(options, "ResNet-50's layer4", 32, ResNet50.Layer4Grid);
        return Recipe.FromWeights(weights, logger, (network, log) => new ResNet50SpatialFeatureExtractor(network, grid, resolved, log));
    }
}
