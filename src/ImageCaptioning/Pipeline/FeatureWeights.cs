using ImageCaptioning.Vision;
using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Pipeline;

/// <summary>Where a CNN feature extractor's weights come from. Nothing is ever downloaded.</summary>
public sealed record FeatureWeights
{
    private FeatureWeights(FeatureWeightsKind kind, string? path, int seed) => (Kind, Path, Seed) = (kind, path, seed);

    /// <summary>How the weights are obtained.</summary>
    public FeatureWeightsKind Kind { get; }

    /// <summary>The weights file, for <see cref="FeatureWeightsKind.File"/>.</summary>
    public string? Path { get; }

    /// <summary>The initialisation seed, for random weights (and the fallback of <see cref="FeatureWeightsKind.HubCacheOrRandom"/>).</summary>
    public int Seed { get; }

    /// <summary>torchvision's pretrained file in the torch hub cache ($TORCH_HOME or ~/.cache/torch/hub/checkpoints); an error says where to put it when absent.</summary>
    public static FeatureWeights HubCache { get; } = new(FeatureWeightsKind.HubCache, null, 0);

    /// <summary>A state_dict file: a torchvision .pth (zip or legacy format) or safetensors.</summary>
    public static FeatureWeights FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return new(FeatureWeightsKind.File, System.IO.Path.GetFullPath(path), 0);
    }

    /// <summary>Seeded random weights (torchvision's initialisation): for tests and demos; a warning is logged.</summary>
    public static FeatureWeights Random(int seed) => new(FeatureWeightsKind.Random, null, seed);

    /// <summary>The pretrained file when the hub cache has it, else seeded random weights (the demo's default).</summary>
    public static FeatureWeights HubCacheOrRandom(int seed) => new(FeatureWeightsKind.HubCacheOrRandom, null, seed);

    internal FeatureWeights Resolve(string fileName)
    {
        if (Kind != FeatureWeightsKind.HubCacheOrRandom) return this;
        var cached = System.IO.Path.Combine(PretrainedWeights.HubCheckpointDirectory, fileName);
        return File.Exists(cached) ? HubCache : Random(Seed);
    }

    /// <summary>Identifies the weights in feature-cache names, so features of different weights never mix.</summary>
    internal string Tag => Kind switch
    {
        FeatureWeightsKind.Random => $"random{Seed}",
        FeatureWeightsKind.File => "file" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes($"{Path}|{new FileInfo(Path!).Length}|{File.GetLastWriteTimeUtc(Path!).Ticks}")))[..12].ToLowerInvariant(),
        _ => "pretrained",
    };

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        FeatureWeightsKind.File => $"file {Path}",
        FeatureWeightsKind.Random => $"random (seed {Seed})",
        FeatureWeightsKind.HubCacheOrRandom => $"hub cache, else random (seed {Seed})",
        _ => "hub cache",
    };
}

/// <summary>The kinds of <see cref="FeatureWeights"/>.</summary>
public enum FeatureWeightsKind
{
    /// <summary>The torch hub cache.</summary>
    HubCache,
    /// <summary>A given file.</summary>
    File,
    /// <summary>Seeded random initialisation.</summary>
    Random,
    /// <summary>The hub cache when present, else seeded random.</summary>
    HubCacheOrRandom,
}

/// <summary>The CNNs the pipeline can build by name.</summary>
public enum FeatureNetwork
{
    /// <summary>VGG16 fc7, 4096-d (the recipe's).</summary>
    Vgg16,
    /// <summary>ResNet-50 average pool, 2048-d.</summary>
    ResNet50,
}

internal static class FeatureNetworks
{
    public static IFeatureExtractor Create(FeatureNetwork network, FeatureWeights weights, FeatureExtractorOptions options, ILogger logger)
    {
        var fileName = network == FeatureNetwork.Vgg16 ? PretrainedWeights.Vgg16FileName : PretrainedWeights.ResNet50FileNames[0];
        var resolved = weights.Resolve(fileName);
        return (network, resolved.Kind) switch
        {
            (FeatureNetwork.Vgg16, FeatureWeightsKind.File) => Vgg16FeatureExtractor.FromFile(resolved.Path!, options, logger),
            (FeatureNetwork.Vgg16, FeatureWeightsKind.Random) => Vgg16FeatureExtractor.CreateRandom(resolved.Seed, logger, options),
            (FeatureNetwork.Vgg16, _) => Vgg16FeatureExtractor.FromDefaultLocation(options, logger),
            (FeatureNetwork.ResNet50, FeatureWeightsKind.File) => ResNet50FeatureExtractor.FromFile(resolved.Path!, options, logger),
            (FeatureNetwork.ResNet50, FeatureWeightsKind.Random) => ResNet50FeatureExtractor.CreateRandom(resolved.Seed, logger, options),
            _ => ResNet50FeatureExtractor.FromDefaultLocation(options, logger),
        };
    }
}
