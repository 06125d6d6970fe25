using System.Text.Json;
using ImageCaptioning.IO;
using ImageCaptioning.Modeling;
using ImageCaptioning.Torch;
using ImageCaptioning.Torch.Serialization;

namespace ImageCaptioning.Training;

/// <summary>
/// The checkpoints of one directory. A checkpoint <c>name</c> is <c>name.json</c> plus the two safetensors files it
/// names (<c>name.&lt;id&gt;.model.safetensors</c>, <c>name.&lt;id&gt;.optimizer.safetensors</c>). The weights are
/// written first under a fresh id, then the JSON replaces the old one atomically: that rename is the commit. A
/// failure before it leaves the previous checkpoint whole; the previous files are deleted only after it.
/// </summary>
internal sealed class CheckpointStore(string directory)
{
    public const string Last = "last";
    public const string Best = "best";

    private const string ModelSuffix = ".model.safetensors";
    private const string OptimizerSuffix = ".optimizer.safetensors";

    public string Directory { get; } = Path.GetFullPath(directory);

    /// <summary>Called with each file's path once it is written (tests inject failures between the writes).</summary>
    public Action<string>? AfterFileWritten { get; init; }

    public string JsonPath(string name) => Path.Combine(Directory, name + ".json");

    public void Save(string name, CaptionModel model, torch.optim.Optimizer optimizer, TrainingCheckpoint state)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var id = Guid.NewGuid().ToString("N")[..12];
        state.ModelFile = $"{name}.{id}{ModelSuffix}";
        state.OptimizerFile = $"{name}.{id}{OptimizerSuffix}";
        var modelPath = Path.Combine(Directory, state.ModelFile);
        var optimizerPath = Path.Combine(Directory, state.OptimizerFile);
        try
        {
            Safetensors.Save(modelPath, model.state_dict());
            state.ModelSha256 = FileDigest.Sha256(modelPath);
            AfterFileWritten?.Invoke(modelPath);
            var optimizerState = optimizer.state_dict();
            try
            {
                Safetensors.Save(optimizerPath, optimizerState);
            }
            finally
            {
                foreach (var tensor in optimizerState.Values) tensor.Dispose();
            }
            state.OptimizerSha256 = FileDigest.Sha256(optimizerPath);
            AfterFileWritten?.Invoke(optimizerPath);
            AtomicFile.Write(JsonPath(name), stream => JsonSerializer.Serialize(stream, state, TrainingCheckpoint.Json));
            AfterFileWritten?.Invoke(JsonPath(name));
        }
        catch
        {
            TryDelete(modelPath);
            TryDelete(optimizerPath);
            throw;
        }
        DeleteUnreferenced(name, state);
    }

    /// <summary>Reads a checkpoint's JSON; the message of any failure names the file.</summary>
    public static TrainingCheckpoint ReadState(string jsonPath)
    {
        if (!File.Exists(jsonPath)) throw new FileNotFoundException($"the checkpoint {jsonPath} does not exist", jsonPath);
        TrainingCheckpoint? state;
        try
        {
            using var stream = File.OpenRead(jsonPath);
            state = JsonSerializer.Deserialize<TrainingCheckpoint>(stream, TrainingCheckpoint.Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{jsonPath}: not a training checkpoint ({e.Message})", e);
        }
        if (state is null || state.Format != TrainingCheckpoint.CurrentFormat)
            throw new InvalidDataException($"{jsonPath}: unsupported checkpoint format {state?.Format} (expected {TrainingCheckpoint.CurrentFormat})");
        if (string.IsNullOrEmpty(state.ModelFile) || string.IsNullOrEmpty(state.OptimizerFile) || string.IsNullOrEmpty(state.CpuRngState))
            throw new InvalidDataException($"{jsonPath}: the checkpoint lacks its model file, optimiser file or RNG state");
        return state;
    }

    /// <summary>Loads the weights and optimiser state a checkpoint names into <paramref name="model"/> and <paramref name="optimizer"/>.</summary>
    public static void RestoreTensors(string jsonPath, TrainingCheckpoint state, CaptionModel model, torch.optim.Optimizer optimizer, Device device)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(jsonPath))!;
        var modelPath = Path.Combine(folder, state.ModelFile);
        var optimizerPath = Path.Combine(folder, state.OptimizerFile);
        // Checkpoints written before the digests were recorded have none, and resume unverified.
        if (state.ModelSha256 is { } modelDigest) FileDigest.Verify(modelPath, modelDigest, jsonPath);
        if (state.OptimizerSha256 is { } optimizerDigest) FileDigest.Verify(optimizerPath, optimizerDigest, jsonPath);
        using (var weights = Safetensors.Load(modelPath, device))
            model.load_state_dict(weights, strict: true, sourceName: modelPath);

        using var optimizerState = Safetensors.Load(optimizerPath, device);
        try
        {
            optimizer.load_state_dict(optimizerState);
        }
        catch (Exception e) when (e is KeyNotFoundException or TorchException)
        {
            throw new InvalidDataException($"{optimizerPath}: the optimiser state does not fit this model's parameters ({e.Message})", e);
        }
    }

    // Files of earlier saves of this checkpoint, and weights orphaned by a save that failed before its commit.
    private void DeleteUnreferenced(string name, TrainingCheckpoint state)
    {
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, name + ".*.safetensors"))
        {
            var file = Path.GetFileName(path);
            if (file != state.ModelFile && file != state.OptimizerFile && (file.EndsWith(ModelSuffix, StringComparison.Ordinal) || file.EndsWith(OptimizerSuffix, StringComparison.Ordinal)))
                TryDelete(path);
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
