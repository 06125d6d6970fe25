using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

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

    private static readonly IReadOnlySet<string> IgnoredKeys = new HashSet<string>(["classifier.6.weight", "classifier.6.bias"], StringComparer.Ordinal);

    private Vgg16FeatureExtractor(Vgg16 network, FeatureExtractorOptions? options, ILogger? logger)
        : base(network, "vgg16-fc7", FeatureDimension, options, logger)
    {
    }

    /// <summary>Loads the weights of a torchvision VGG16 from a <c>.pth</c> (zip or legacy) or <c>.safetensors</c> file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ImageCaptioning.Torch.Serialization.StateDictMismatchException">The file's keys or shapes are not VGG16's; all problems are listed.</exception>
    public static Vgg16FeatureExtractor FromFile(string path, FeatureExtractorOptions? options = null, ILogger? logger = null)
    {
        logger ??= NullLogger.Instance;
        var network = new Vgg16(Vgg16Output.Fc7);
        try
        {
            NetworkWeights.Load(network, path, IgnoredKeys, logger);
            return new Vgg16FeatureExtractor(network, options, logger);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>Loads torchvision's ImageNet weights (<see cref="PretrainedWeights.Vgg16FileName"/>) from the torch hub cache.</summary>
    /// <exception cref="PretrainedWeightsNotFoundException">The file is not there; the message says where it is expected and how to obtain it.</exception>
    public static Vgg16FeatureExtractor FromDefaultLocation(FeatureExtractorOptions? options = null, ILogger? logger = null) =>
        FromFile(PretrainedWeights.Locate("VGG16", "torchvision.models.vgg16(weights='IMAGENET1K_V1')", [PretrainedWeights.Vgg16FileName]), options, logger);

    /// <summary>
    /// An extractor with random weights (torchvision's initialisation, seeded): for tests and demos only, its
    /// features mean nothing. Logs a warning saying so.
    /// </summary>
    public static Vgg16FeatureExtractor CreateRandom(int seed, ILogger? logger = null, FeatureExtractorOptions? options = null)
    {
        logger ??= NullLogger.Instance;
        var network = new Vgg16(Vgg16Output.Fc7);
        NetworkWeights.InitializeLikeTorchvision(network, seed, normalLinear: true);
        logger.LogWarning("VGG16 feature extractor with RANDOM weights (seed {Seed}): its features are meaningless; use it for tests and demos only", seed);
        return new Vgg16FeatureExtractor(network, options, logger);
    }
}
