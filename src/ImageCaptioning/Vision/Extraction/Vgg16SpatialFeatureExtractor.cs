using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Vision;

/// <summary>
/// VGG16's conv5_3 feature map after its ReLU (torchvision <c>features[:30]</c>), for attention models: a grid of
/// <see cref="GridFeatureExtractor.GridHeight"/> × <see cref="GridFeatureExtractor.GridWidth"/> locations (14 × 14
/// for 224 × 224 inputs) of <see cref="Channels"/> values. A row holds the locations in row-major order, each
/// location's 512 channels together: <c>[H/16, W/16, 512]</c> flattened, so reshaping a row to
/// <c>[locations, 512]</c> gives the annotation vectors.
/// </summary>
/// <remarks>
/// A full torchvision VGG16 state_dict loads as it is: its <c>classifier.*</c> weights are skipped; every
/// <c>features.*</c> key must match exactly and no other key may appear.
/// </remarks>
public sealed class Vgg16SpatialFeatureExtractor : GridFeatureExtractor
{
    /// <summary>conv5_3's channels.</summary>
    public const int Channels = 512;

    /// <summary>The network and its weights, shared with the trainable encoder that fine-tunes it.</summary>
    internal static readonly CnnRecipe<Vgg16> Recipe = Vgg16FeatureExtractor.Recipe("VGG16 spatial", Vgg16Output.Conv5_3, new HashSet<string>(
        from layer in new[] { 0, 3, 6 } from kind in new[] { "weight", "bias" } select $"classifier.{layer}.{kind}",
        StringComparer.Ordinal));

    private Vgg16SpatialFeatureExtractor(Vgg16 network, (int Height, int Width) grid, FeatureExtractorOptions options, ILogger? logger)
        : base(network, "vgg16-conv5_3", grid, Channels, options, logger)
    {
    }

    /// <summary>Loads the <c>features.*</c> weights of a torchvision VGG16 from a <c>.pth</c> (zip or legacy) or <c>.safetensors</c> file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ImageCaptioning.Torch.Serialization.StateDictMismatchException">The file's keys or shapes are not VGG16's; all problems are listed.</exception>
    public static Vgg16SpatialFeatureExtractor FromFile(string path, FeatureExtractorOptions? options = null, ILogger? logger = null) =>
        Create(CnnWeights.FromFile(path), options, logger);

    /// <summary>Loads torchvision's ImageNet VGG16 weights (<see cref="PretrainedWeights.Vgg16FileName"/>) from the torch hub cache.</summary>
    /// <exception cref="PretrainedWeightsNotFoundException">The file is not there; the message says where it is expected and how to obtain it.</exception>
    public static Vgg16SpatialFeatureExtractor FromDefaultLocation(FeatureExtractorOptions? options = null, ILogger? logger = null) =>
        Create(CnnWeights.HubCache, options, logger);

    /// <summary>An extractor with random weights (seeded): for tests and demos only. Logs a warning saying so.</summary>
    public static Vgg16SpatialFeatureExtractor CreateRandom(int seed, FeatureExtractorOptions? options = null, ILogger? logger = null) =>
        Create(CnnWeights.Random(seed), options, logger);

    /// <summary>The extractor with <paramref name="weights"/>, as <see cref="FeatureNetworks"/> builds it.</summary>
    internal static Vgg16SpatialFeatureExtractor Create(CnnWeights weights, FeatureExtractorOptions? options, ILogger? logger)
    {
        // Four 2×2 max-pools precede conv5_3: a smaller input leaves no cell.
        var (resolved, grid) = FeatureGrid.ForTransform(options, "VGG16's conv5_3", 16, Vgg16.Conv5_3Grid);
        return Recipe.FromWeights(weights, logger, (network, log) => new Vgg16SpatialFeatureExtractor(network, grid, resolved, log));
    }
}
