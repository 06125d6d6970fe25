namespace ImageCaptioning.Pretrained;

/// <summary>What binding a checkpoint's tensors to a model found besides the tensors it needs.</summary>
/// <param name="SourceFile">The weights file.</param>
/// <param name="UnknownKeys">Tensors of the file the model does not use and does not declare ignorable (Hugging Face warns of these too).</param>
/// <param name="IgnoredKeys">Tensors the architecture declares unused (causal-mask buffers, an unused pooler, a tied head).</param>
public sealed record PretrainedLoadReport(string SourceFile, IReadOnlyList<string> UnknownKeys, IReadOnlyList<string> IgnoredKeys);

/// <summary>
/// Fills a model whose state_dict keys are the checkpoint's own (the modules are registered under Hugging Face's
/// names) from the file's tensors. Every key the model has must be in the file with the model's shape and a floating
/// type; everything is checked before anything is copied, so a bad file leaves the model as it was. Keys the
/// architecture declares ignorable are skipped; any other extra key is reported, not refused, as Hugging Face does.
/// </summary>
internal static class PretrainedWeights
{
    private const int MaxKeysNamed = 12;

    /// <summary>
    /// The one way an architecture loads its weights: the folder's weights file bound into <paramref name="model"/> as
    /// <see cref="Bind"/> binds them (<paramref name="view"/> may add names for the file's tensors), then the model moved to
    /// <paramref name="device"/> in eval mode. On any failure the model is disposed, so nothing half-loaded is left.
    /// </summary>
    public static PretrainedLoadReport LoadInto(nn.Module model, PretrainedFolder folder, Device device, Func<string, bool> ignorable,
        IReadOnlyDictionary<string, long[]>? optionalShapes,
        Func<IReadOnlyDictionary<string, Tensor>, IReadOnlyDictionary<string, Tensor>>? view = null)
    {
        try
        {
            var (tensors, source) = folder.ReadWeights();
            PretrainedLoadReport report;
            using (tensors) report = Bind(model, view is null ? tensors : view(tensors), source, ignorable, optionalShapes);
            model.to(device);
            model.eval();
            return report;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <param name="model">The model to fill; its state_dict keys are the file's keys.</param>
    /// <param name="tensors">The file's tensors.</param>
    /// <param name="sourceFile">The file, for messages.</param>
    /// <param name="ignorable">Whether a key the model does not have is a known unused one (see <see cref="PretrainedLoadReport.IgnoredKeys"/>).</param>
    /// <param name="optionalShapes">Keys the file may hold that the model does not bind (a head tied to the embeddings), with the shape they must have.</param>
    /// <exception cref="InvalidDataException">A tensor is missing, mis-shaped or not floating point; the message names the file and every such key.</exception>
    public static PretrainedLoadReport Bind(nn.Module model, IReadOnlyDictionary<string, Tensor> tensors, string sourceFile,
        Func<string, bool> ignorable, IReadOnlyDictionary<string, long[]>? optionalShapes = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tensors);
        var target = model.state_dict();
        var problems = new List<string>();
        foreach (var (key, parameter) in target)
        {
            if (!tensors.TryGetValue(key, out var tensor))
                problems.Add($"the tensor '{key}' (shape [{string.Join(", ", parameter.shape)}]) is missing");
            else if (!tensor.shape.AsSpan().SequenceEqual(parameter.shape))
                problems.Add($"the tensor '{key}' has shape [{string.Join(", ", tensor.shape)}] but config.json's sizes need [{string.Join(", ", parameter.shape)}]");
            else if (!tensor.is_floating_point())
                problems.Add($"the tensor '{key}' is {tensor.dtype}, not a floating-point type");
        }

        var unknown = new List<string>();
        var ignored = new List<string>();
        foreach (var (key, tensor) in tensors)
        {
            if (target.ContainsKey(key)) continue;
            if (optionalShapes is not null && optionalShapes.TryGetValue(key, out var shape))
            {
                if (!tensor.shape.AsSpan().SequenceEqual(shape))
                    problems.Add($"the tensor '{key}' has shape [{string.Join(", ", tensor.shape)}] but config.json's sizes need [{string.Join(", ", shape)}]");
                ignored.Add(key);
            }
            else if (ignorable(key)) ignored.Add(key);
            else unknown.Add(key);
        }

        if (problems.Count > 0)
        {
            var listed = string.Join("; ", problems.Take(MaxKeysNamed)) + (problems.Count > MaxKeysNamed ? $"; and {problems.Count - MaxKeysNamed} more" : "");
            var hint = unknown.Count > 0 ? $" (the file has {unknown.Count} keys the model does not know, such as '{unknown[0]}': is it another architecture?)" : "";
            // The file or config.json may be the one at fault (a damaged key, or a layer count it does not have): name both.
            throw new InvalidDataException($"{sourceFile}: {listed}{hint}; nothing was loaded (the tensors and shapes expected are the ones {PretrainedFolder.ConfigFile} describes)");
        }

        using (torch.no_grad())
            foreach (var (key, parameter) in target)
                parameter.copy_(tensors[key]);
        return new PretrainedLoadReport(sourceFile, unknown, ignored);
    }
}
