using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Vision;

/// <summary>
/// The captioning recipe's extractor: torchvision VGG16 with <c>classifier[6]</c> replaced by <c>Identity</c>,
/// giving fc7, 4096 values per image after ReLU (Dropout is inactive in eval mode).
/// </summary>
/// <remarks>
/// A full torchvision VGG16 state_dict loads as it is: its <c>classifier.6.weight</c>/<c>bias</c> (the ImageNet
/// classifier the recipe removes) are skipped; every other key must match exactly (strict loading).
/// </remarks>
public sealed class Vgg16FeatureExtractor : FeatureExtractor
{
    /// <summary>fc7's width.</summary>
    public const int FeatureDimension = 4096;

    /// <summary>The VGG16 recipe, shared with <see cref="Vgg16SpatialFeatureExtractor"/> but for its network and cut-off head.</summary>
    internal static CnnRecipe<Vgg16> Recipe(string extractorName, Vgg16Output output, IReadOnlySet<string> ignoredKeys) =>
        new("VGG16", extractorName, () => new Vgg16(output), ignoredKeys, normalLinear: true, [PretrainedWeights.Vgg16FileName],
            "torchvision.models.vgg16(weights='IMAGENET1K_V1')");

    private static readonly CnnRecipe<Vgg16> Fc7 = Recipe("VGG16", Vgg16Output.Fc7,
        new HashSet<string>(["classifier.6.weight", "classifier.6.bias"], StringComparer.Ordinal));

    private Vgg16FeatureExtractor(Vgg16 network, FeatureExtractorOptions? options, ILogger? logger)
        : base(network, "vgg16-fc7", FeatureDimension, options, logger)
    {
    }

    /// <summary>Loads the weights of a torchvision VGG16 from a <c>.pth</c> (zip or legacy) or <c>.safetensors</c> file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ImageCaptioning.Torch.Serialization.StateDictMismatchException">The file's keys or shapes are not VGG16's; all problems are listed.</exception>
    public static Vgg16FeatureExtractor FromFile(string path, FeatureExtractorOptions? options = null, ILogger? logger = null) =>
        Fc7.FromFile(path, logger, (network, log) => new Vgg16FeatureExtractor(network, options, log));

    /// <summary>Loads torchvision's ImageNet weights (<see cref="PretrainedWeights.Vgg16FileName"/>) from the torch hub cache.</summary>
    /// <exception cref="PretrainedWeightsNotFoundException">The file is not there; the message says where it is expected and how to obtain it.</exception>
    public static Vgg16FeatureExtractor FromDefaultLocation(FeatureExtractorOptions? options = null, ILogger? logger = null) =>
        Fc7.FromDefaultLocation(logger, (network, log) => new Vgg16FeatureExtractor(network, options, log));

    /// <summary>
    /// An extractor with random weights (torchvision's initialisation, seeded): for tests and demos only, its
    /// features mean nothing. Logs a warning saying so.
    /// </summary>
    public static Vgg16FeatureExtractor CreateRandom(int seed, FeatureExtractorOptions? options = null, ILogger? logger = null) =>
        Fc7.CreateRandom(seed, logger, (network, log) => new Vgg16FeatureExtractor(network, options, log));
}
