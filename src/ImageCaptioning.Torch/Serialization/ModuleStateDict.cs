namespace ImageCaptioning.Torch.Serialization;

/// <summary>
/// Strict state_dict loading for TorchSharp modules. TorchSharp's own <c>load_state_dict</c> copies with
/// broadcasting, so a mis-shaped tensor loads silently, and its strict error names no key; this checks every key
/// and shape first, so a bad file leaves the module untouched and the message lists every problem.
/// </summary>
public static class ModuleStateDict
{
    /// <summary>
    /// Copies <paramref name="source"/> into the module's parameters and buffers after checking them as
    /// PyTorch's <c>load_state_dict</c> does, plus shapes.
    /// </summary>
    /// <param name="module">The module to fill.</param>
    /// <param name="source">Tensors by state_dict key, on any device and of any floating type.</param>
    /// <param name="strict">Whether missing and unexpected keys are errors (PyTorch's default).</param>
    /// <param name="sourceName">Where the tensors came from, for the message (a file path, say).</param>
    /// <returns>The comparison, whose missing and unexpected keys a non-strict caller may report.</returns>
    /// <exception cref="StateDictMismatchException">A shape differs, or (strict) a key is missing or unexpected.</exception>
    public static StateDictComparison LoadStateDict(this nn.Module module, IReadOnlyDictionary<string, Tensor> source, bool strict = true, string? sourceName = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(source);
        var target = module.state_dict();
        var comparison = StateDictValidation.Check(target.Select(e => (e.Key, e.Value.shape)), source, strict, sourceName);
        using var noGrad = torch.no_grad();
        foreach (var (key, tensor) in target)
            if (source.TryGetValue(key, out var value))
                tensor.copy_(value);
        return comparison;
    }

    /// <summary>The module's state_dict keys and shapes in its order, as <see cref="StateDictValidation"/> takes them.</summary>
    public static IEnumerable<(string Key, long[] Shape)> ExpectedShapes(this nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return module.state_dict().Select(e => (e.Key, e.Value.shape)).ToList();
    }
}
