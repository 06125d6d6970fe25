using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Vision;

/// <summary>torchvision ResNet-50 without its classifier: the 2048 globally average-pooled values per image.</summary>
/// <remarks>
/// A full torchvision ResNet-50 state_dict loads as it is: its <c>fc.weight</c>/<c>bias</c> are skipped; every
/// other key must match exactly (strict loading).
/// </remarks>
public sealed class ResNet50FeatureExtractor : FeatureExtractor
{
    /// <summary>Values per image.</summary>
    public const int FeatureDimension = ResNet50.PooledChannels;

    private static readonly CnnRecipe<ResNet50> Recipe = ResNet50Recipe("ResNet-50", ResNet50Output.Pooled);

    /// <summary>The ResNet-50 recipe, shared with <see cref="ResNet50SpatialFeatureExtractor"/> but for where its network stops.</summary>
    internal static CnnRecipe<ResNet50> ResNet50Recipe(string extractorName, ResNet50Output output) =>
        new("ResNet-50", extractorName, () => new ResNet50(output), new HashSet<string>(["fc.weight", "fc.bias"], StringComparer.Ordinal),
            normalLinear: false, PretrainedWeights.ResNet50FileNames, "torchvision.models.resnet50(weights='IMAGENET1K_V1')");

    private ResNet50FeatureExtractor(ResNet50 network, FeatureExtractorOptions? options, ILogger? logger)
        : base(network, "resnet50-avgpool", FeatureDimension, options, logger)
    {
    }

    /// <summary>Loads the weights of a torchvision ResNet-50 from a <c>.pth</c> (zip or legacy) or <c>.safetensors</c> file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ImageCaptioning.Torch.Serialization.StateDictMismatchException">The file's keys or shapes are not ResNet-50's; all problems are listed.</exception>
    public static ResNet50FeatureExtractor FromFile(string path, FeatureExtractorOptions? options = null, ILogger? logger = null) =>
        Recipe.FromFile(path, logger, (network, log) => new ResNet50FeatureExtractor(network, options, log));

    /// <summary>
    /// Loads torchvision's ImageNet weights (IMAGENET1K_V1, <see cref="PretrainedWeights.ResNet50FileNames"/>) from
    /// the torch hub cache.
    /// </summary>
    /// <exception cref="PretrainedWeightsNotFoundException">The file is not there; the message says where it is expected and how to obtain it.</exception>
    public static ResNet50FeatureExtractor FromDefaultLocation(FeatureExtractorOptions? options = null, ILogger? logger = null) =>
        Recipe.FromDefaultLocation(logger, (network, log) => new ResNet50FeatureExtractor(network, options, log));

    /// <summary>
    /// An extractor with random weights (torchvision's initialisation, seeded): for tests and demos only. Logs a
    /// warning saying so.
    /// </summary>
    public static ResNet50FeatureExtractor CreateRandom(int seed, FeatureExtractorOptions? options = null, ILogger? logger = null) =>
        Recipe.CreateRandom(seed, logger, (network, log) => new ResNet50FeatureExtractor(network, options, log));
}
