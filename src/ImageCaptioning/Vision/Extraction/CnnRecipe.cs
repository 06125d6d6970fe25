using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ImageCaptioning.Vision;

/// <summary>
/// What the CNN extractors' factories differ in: the network to build, the head of a torchvision file that the
/// extractor cuts off, how torchvision initialises the network, and its pretrained file. Loading, random
/// initialisation and freeing the network when a factory fails are written here once for all of them.
/// </summary>
/// <param name="model">The network's name in messages about its pretrained file, e.g. "ResNet-50".</param>
/// <param name="extractorName">The extractor's name in the random-weights warning, e.g. "VGG16 spatial".</param>
/// <param name="create">A new network with PyTorch's default initialisation.</param>
/// <param name="ignoredKeys">The keys of a full torchvision file that the network lacks (the head it cuts off).</param>
/// <param name="normalLinear">Whether torchvision initialises the linear layers N(0, 0.01) (VGG) or keeps PyTorch's default (ResNet).</param>
/// <param name="pretrainedFileNames">torchvision's names of the pretrained file, in the order they are looked for.</param>
/// <param name="torchvisionCall">The torchvision call that puts the pretrained file in the hub cache.</param>
internal sealed class CnnRecipe<TNetwork>(string model, string extractorName, Func<TNetwork> create, IReadOnlySet<string> ignoredKeys,
    bool normalLinear, IReadOnlyList<string> pretrainedFileNames, string torchvisionCall)
    where TNetwork : torch.nn.Module
{
    /// <summary>The extractor over the network with the weights of <paramref name="path"/>.</summary>
    public TExtractor FromFile<TExtractor>(string path, ILogger? logger, Func<TNetwork, ILogger, TExtractor> extractor) =>
        Build(logger ?? NullLogger.Instance, (network, log) => NetworkWeights.Load(network, path, ignoredKeys, log), extractor);

    /// <summary>The extractor over the network with torchvision's pretrained weights from the torch hub cache.</summary>
    public TExtractor FromDefaultLocation<TExtractor>(ILogger? logger, Func<TNetwork, ILogger, TExtractor> extractor) =>
        FromFile(PretrainedWeights.Locate(model, torchvisionCall, pretrainedFileNames), logger, extractor);

    /// <summary>The extractor over the network initialised as torchvision does from <paramref name="seed"/>, with a warning that its features mean nothing.</summary>
    public TExtractor CreateRandom<TExtractor>(int seed, ILogger? logger, Func<TNetwork, ILogger, TExtractor> extractor) =>
        Build(logger ?? NullLogger.Instance, (network, log) =>
        {
            NetworkWeights.InitializeLikeTorchvision(network, seed, normalLinear);
            log.LogWarning("{Extractor} feature extractor with RANDOM weights (seed {Seed}): its features are meaningless; use it for tests and demos only",
                extractorName, seed);
        }, extractor);

    /// <summary>
    /// The extractor over the network with <paramref name="weights"/>; <see cref="CnnWeightsKind.HubCacheOrRandom"/>
    /// is decided by whether the first of the pretrained file names is in the hub cache.
    /// </summary>
    public TExtractor FromWeights<TExtractor>(CnnWeights weights, ILogger? logger, Func<TNetwork, ILogger, TExtractor> extractor)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var resolved = weights.Resolve(pretrainedFileNames[0]);
        return resolved.Kind switch
        {
            CnnWeightsKind.File => FromFile(resolved.Path!, logger, extractor),
            CnnWeightsKind.Random => CreateRandom(resolved.Seed, logger, extractor),
            _ => FromDefaultLocation(logger, extractor),
        };
    }

    private TExtractor Build<TExtractor>(ILogger logger, Action<TNetwork, ILogger> setWeights, Func<TNetwork, ILogger, TExtractor> extractor)
    {
        var network = create();
        try
        {
            setWeights(network, logger);
            return extractor(network, logger);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }
}
