using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Vision;

/// <summary>
/// Any TorchSharp module as a feature extractor: a user's own CNN, a TorchVision model or a fine-tuned encoder gets
/// the library's batching, decode prefetch, eval mode without gradients, device placement, feature store and
/// pipeline. The module maps transformed images <c>[B, 3, H, W]</c> to <c>[B, dimension]</c> (or to
/// <c>[B, C, 1, 1]</c>-style shapes that flatten to it).
/// </summary>
public sealed class ModuleFeatureExtractor : FeatureExtractor
{
    /// <summary>Wraps <paramref name="network"/>, taking ownership: disposing the extractor disposes it.</summary>
    /// <param name="network">The module, with its weights loaded; it is moved to the options' device and put in eval mode.</param>
    /// <param name="name">A short stable name of the network and layer; feature stores record it, so a different network needs a different name.</param>
    /// <param name="dimension">Floats per image that the module produces.</param>
    /// <param name="options">Preprocessing, batching and device settings.</param>
    /// <param name="logger">Where progress goes.</param>
    public ModuleFeatureExtractor(torch.nn.Module<Tensor, Tensor> network, string name, int dimension, FeatureExtractorOptions? options = null, ILogger? logger = null)
        : base(network, name, dimension, options, logger)
    {
    }
}
