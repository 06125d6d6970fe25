namespace ImageCaptioning.Vision;

/// <summary>
/// Where the weights of a CNN feature extractor's network (<see cref="FeatureNetwork"/>) come from: torchvision's
/// pretrained file, a given file, or seeded random initialisation. Nothing is ever downloaded.
/// </summary>
public sealed record CnnWeights
{
    private CnnWeights(CnnWeightsKind kind, string? path, int seed) => (Kind, Path, Seed) = (kind, path, seed);

    /// <summary>How the weights are obtained.</summary>
    public CnnWeightsKind Kind { get; }

    /// <summary>The weights file, for <see cref="CnnWeightsKind.File"/>.</summary>
    public string? Path { get; }

    /// <summary>The initialisation seed, for random weights (and the fallback of <see cref="CnnWeightsKind.HubCacheOrRandom"/>).</summary>
    public int Seed { get; }

    /// <summary>torchvision's pretrained file in the torch hub cache ($TORCH_HOME or ~/.cache/torch/hub/checkpoints); an error says where to put it when absent.</summary>
    public static CnnWeights HubCache { get; } = new(CnnWeightsKind.HubCache, null, 0);

    /// <summary>A state_dict file: a torchvision .pth (zip or legacy format) or safetensors.</summary>
    public static CnnWeights FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return new(CnnWeightsKind.File, System.IO.Path.GetFullPath(path), 0);
    }

    /// <summary>Seeded random weights (torchvision's initialisation): for tests and demos; a warning is logged.</summary>
    public static CnnWeights Random(int seed) => new(CnnWeightsKind.Random, null, seed);

    /// <summary>The pretrained file when the hub cache has it, else seeded random weights (the demo's default).</summary>
    public static CnnWeights HubCacheOrRandom(int seed) => new(CnnWeightsKind.HubCacheOrRandom, null, seed);

    internal CnnWeights Resolve(string fileName)
    {
        if (Kind != CnnWeightsKind.HubCacheOrRandom) return this;
        var cached = System.IO.Path.Combine(PretrainedWeights.HubCheckpointDirectory, fileName);
        return File.Exists(cached) ? HubCache : Random(Seed);
    }

    /// <summary>Identifies the weights in feature-cache names, so features of different weights never mix.</summary>
    internal string Tag => Kind switch
    {
        CnnWeightsKind.Random => $"random{Seed}",
        CnnWeightsKind.File => "file" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes($"{Path}|{new FileInfo(Path!).Length}|{File.GetLastWriteTimeUtc(Path!).Ticks}")))[..12].ToLowerInvariant(),
        _ => "pretrained",
    };

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        CnnWeightsKind.File => $"file {Path}",
        CnnWeightsKind.Random => $"random (seed {Seed})",
        CnnWeightsKind.HubCacheOrRandom => $"hub cache, else random (seed {Seed})",
        _ => "hub cache",
    };
}
