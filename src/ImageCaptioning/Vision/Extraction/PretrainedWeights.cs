namespace ImageCaptioning.Vision;

/// <summary>
/// Where torchvision's published ImageNet weights are found without downloading: the torch hub cache that
/// PyTorch fills (<c>$TORCH_HOME/hub/checkpoints</c>, else <c>$XDG_CACHE_HOME/torch/hub/checkpoints</c>, else
/// <c>~/.cache/torch/hub/checkpoints</c>), so a user who has run torchvision already has them. This library never
/// downloads anything.
/// </summary>
public static class PretrainedWeights
{
    /// <summary>torchvision's VGG16 (IMAGENET1K_V1) file name.</summary>
    public const string Vgg16FileName = "vgg16-397923af.pth";

    /// <summary>
    /// torchvision's ResNet-50 IMAGENET1K_V1 file names, in the order they are looked for: the torchvision ≥ 0.13
    /// name, then the older name of the same weights.
    /// </summary>
    public static IReadOnlyList<string> ResNet50FileNames { get; } = Array.AsReadOnly(["resnet50-0676ba61.pth", "resnet50-19c8e357.pth"]);

    /// <summary>Where torchvision publishes the files.</summary>
    public const string DownloadBaseUrl = "https://download.pytorch.org/models/";

    /// <summary>The torch hub checkpoint folder, computed as PyTorch's <c>torch.hub.get_dir()</c> does.</summary>
    public static string HubCheckpointDirectory
    {
        get
        {
            var torchHome = Environment.GetEnvironmentVariable("TORCH_HOME");
            if (string.IsNullOrEmpty(torchHome))
            {
                var cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
                if (string.IsNullOrEmpty(cache))
                    cache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
                torchHome = Path.Combine(cache, "torch");
            }
            else if (torchHome.StartsWith('~'))
            {
                torchHome = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) + torchHome[1..];
            }

            return Path.Combine(torchHome, "hub", "checkpoints");
        }
    }

    /// <summary>The path of the first of <paramref name="fileNames"/> present in the hub cache.</summary>
    /// <exception cref="PretrainedWeightsNotFoundException">None is present; the message says what to put where.</exception>
    internal static string Locate(string model, string torchvisionCall, IReadOnlyList<string> fileNames)
    {
        var directory = HubCheckpointDirectory;
        foreach (var name in fileNames)
        {
            var path = Path.Combine(directory, name);
            if (File.Exists(path)) return path;
        }

        throw new PretrainedWeightsNotFoundException(model, fileNames.Select(n => Path.Combine(directory, n)).ToArray(),
            DownloadBaseUrl + fileNames[0], torchvisionCall);
    }
}

/// <summary>Pretrained weights are not where they are looked for; the message says which file, where, and how to get it.</summary>
public sealed class PretrainedWeightsNotFoundException : FileNotFoundException
{
    internal PretrainedWeightsNotFoundException(string model, IReadOnlyList<string> expectedPaths, string downloadUrl, string torchvisionCall)
        : base(BuildMessage(model, expectedPaths, downloadUrl, torchvisionCall), expectedPaths[0])
    {
        ExpectedPaths = expectedPaths;
        DownloadUrl = downloadUrl;
    }

    /// <summary>The paths that were tried, the preferred one first.</summary>
    public IReadOnlyList<string> ExpectedPaths { get; }

    /// <summary>Where torchvision publishes the file.</summary>
    public string DownloadUrl { get; }

    private static string BuildMessage(string model, IReadOnlyList<string> expectedPaths, string downloadUrl, string torchvisionCall) =>
        $"The pretrained {model} weights were not found: expected {expectedPaths[0]}" +
        (expectedPaths.Count > 1 ? $" (or {string.Join(", ", expectedPaths.Skip(1))})" : "") +
        $" in the torch hub cache (set TORCH_HOME to use another cache). This library never downloads. To obtain the file, run " +
        $"`python3 -c \"import torchvision; {torchvisionCall}\"` (PyTorch stores it there), or download {downloadUrl} yourself " +
        $"into {Path.GetDirectoryName(expectedPaths[0])}, or pass the path of a weights file (.pth or .safetensors) to FromFile.";
}
