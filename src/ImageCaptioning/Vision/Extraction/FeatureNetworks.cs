using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Vision;

/// <summary>Builds the extractor of a <see cref="FeatureNetwork"/> with its <see cref="CnnWeights"/>.</summary>
internal static class FeatureNetworks
{
    public static IFeatureExtractor Create(FeatureNetwork network, CnnWeights weights, FeatureExtractorOptions options, ILogger logger)
    {
        var resolved = Resolve(network, weights);
        return (network, resolved.Kind) switch
        {
            (FeatureNetwork.Vgg16Conv5_3, _) => Vgg16SpatialFeatureExtractor.Create(resolved, options, logger),
            (FeatureNetwork.ResNet50Layer4, _) => ResNet50SpatialFeatureExtractor.Create(resolved, options, logger),
            (FeatureNetwork.Vgg16, CnnWeightsKind.File) => Vgg16FeatureExtractor.FromFile(resolved.Path!, options, logger),
            (FeatureNetwork.Vgg16, CnnWeightsKind.Random) => Vgg16FeatureExtractor.CreateRandom(resolved.Seed, options, logger),
            (FeatureNetwork.Vgg16, _) => Vgg16FeatureExtractor.FromDefaultLocation(options, logger),
            (FeatureNetwork.ResNet50, CnnWeightsKind.File) => ResNet50FeatureExtractor.FromFile(resolved.Path!, options, logger),
            (FeatureNetwork.ResNet50, CnnWeightsKind.Random) => ResNet50FeatureExtractor.CreateRandom(resolved.Seed, options, logger),
            _ => ResNet50FeatureExtractor.FromDefaultLocation(options, logger),
        };
    }

    /// <summary>The weights <see cref="Create"/> uses: <see cref="CnnWeightsKind.HubCacheOrRandom"/> decided by whether the network's pretrained file is cached.</summary>
    public static CnnWeights Resolve(FeatureNetwork network, CnnWeights weights) =>
        weights.Resolve(network is FeatureNetwork.Vgg16 or FeatureNetwork.Vgg16Conv5_3 ? PretrainedWeights.Vgg16FileName : PretrainedWeights.ResNet50FileNames[0]);
}
