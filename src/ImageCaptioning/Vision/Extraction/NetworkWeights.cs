using Microsoft.Extensions.Logging;

namespace ImageCaptioning.Vision;

/// <summary>Loading and random initialisation of the extractors' networks.</summary>
internal static class NetworkWeights
{
    /// <summary>
    /// Loads <paramref name="path"/> (a <c>.safetensors</c> file, else a PyTorch <c>.pth</c> in either format) into
    /// <paramref name="network"/>. Every key of the network must be present with its shape and every other key of
    /// the file is an error, except <paramref name="ignoredKeys"/>: the head the extractor cuts off (a full
    /// torchvision file has it), which is skipped when present.
    /// </summary>
    public static void Load(torch.nn.Module network, string path, IReadOnlySet<string> ignoredKeys, ILogger logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"the weights file {path} does not exist", path);
        using var state = path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)
            ? Safetensors.Load(path)
            : PthReader.ReadStateDict(path);
        var kept = state.Where(kv => !ignoredKeys.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        using (torch.no_grad())
            network.LoadStateDict(kept, strict: true, sourceName: path);
        var skipped = state.Count - kept.Count;
        logger.LogInformation("Loaded {Tensors} tensors from {Path}{Skipped}", kept.Count, path,
            skipped > 0 ? $" (skipped the unused head: {string.Join(", ", state.Keys.Where(ignoredKeys.Contains))})" : "");
    }

    /// <summary>
    /// Re-initialises <paramref name="network"/> as torchvision's constructors do: convolutions Kaiming-normal
    /// (fan-out, ReLU gain), batch norms weight 1 and bias 0, VGG's linear layers N(0, 0.01) with bias 0 (ResNet's
    /// <c>fc</c> keeps PyTorch's default), all biases of convolutions 0.
    /// </summary>
    public static void InitializeLikeTorchvision(torch.nn.Module network, int seed, bool normalLinear)
    {
        torch.manual_seed(seed);
        using var noGrad = torch.no_grad();
        foreach (var module in Descendants(network))
        {
            switch (module)
            {
                case Conv2d conv:
                    var shape = conv.weight.shape;
                    var fanOut = shape[0] * shape[2] * shape[3];
                    conv.weight.normal_(0, Math.Sqrt(2.0 / fanOut));
                    conv.bias?.zero_();
                    break;
                case BatchNorm2d norm:
                    norm.weight!.fill_(1);
                    norm.bias!.zero_();
                    break;
                case Linear linear when normalLinear:
                    linear.weight.normal_(0, 0.01);
                    linear.bias?.zero_();
                    break;
            }
        }
    }

    private static IEnumerable<torch.nn.Module> Descendants(torch.nn.Module module)
    {
        yield return module;
        foreach (var (_, child) in module.named_children())
            foreach (var descendant in Descendants(child))
                yield return descendant;
    }
}
