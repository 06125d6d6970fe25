using System.Text.Json;
using ImageCaptioning.IO;

namespace ImageCaptioning.Training;

/// <summary>
/// The checkpoints of one directory. A checkpoint <c>name</c> is <c>name.json</c> plus the two files it names: the
/// weights (<c>name.&lt;id&gt;.model.safetensors</c>) and the optimiser's state in TorchSharp's own format
/// (<c>name.&lt;id&gt;.optimizer.bin</c>, which keeps every per-parameter step count and moment). The weights are
/// written first under a fresh id, then the JSON replaces the old one atomically: that rename is the commit. A
/// failure before it leaves the previous checkpoint whole; the previous files are deleted only after it.
/// </summary>
internal sealed class CheckpointStore(string directory)
{
    public const string Last = "last";
    public const string Best = "best";

    private const string ModelSuffix = ".model.safetensors";
    private const string OptimizerSuffix = ".optimizer.bin";

    public string Directory { get; } = Path.GetFullPath(directory);

    /// <summary>Called with each file's path once it is written (tests inject failures between the writes).</summary>
    public Action<string>? AfterFileWritten { get; init; }

    public string JsonPath(string name) => Path.Combine(Directory, name + ".json");

    public void Save(string name, nn.Module model, OptimizerHelper optimizer, TrainingCheckpoint state)
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
            AtomicFile.Write(optimizerPath, stream =>
            {
                using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
                optimizer.save_state_dict(writer);
            });
            state.OptimizerSha256 = FileDigest.Sha256(optimizerPath);
            AfterFileWritten?.Invoke(optimizerPath);
            state.StateSha256 = null;
            state.StateSha256 = FileDigest.JsonSha256(JsonSerializer.SerializeToUtf8Bytes(state, TrainingCheckpoint.Json), TrainingCheckpoint.StateDigestKey);
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

    /// <summary>
    /// Reads a checkpoint's JSON and checks its own digest; the message of any failure names the file. Nothing in the
    /// file can switch the checks off: the digests are required, and format 1, which had them optional, is refused.
    /// </summary>
    public static TrainingCheckpoint ReadState(string jsonPath)
    {
        if (!File.Exists(jsonPath)) throw new FileNotFoundException($"the checkpoint {jsonPath} does not exist", jsonPath);
        var bytes = JsonFile.ReadBytes(jsonPath, "training checkpoint");
        var state = JsonFile.Parse<TrainingCheckpoint>(bytes, jsonPath, TrainingCheckpoint.Json, "training checkpoint");
        if (state.Format == 1)
            throw new InvalidDataException($"{jsonPath}: a format-1 checkpoint (written by an earlier version) does not record the digest of its state, so it cannot be verified; start the training again");
        if (state.Format != TrainingCheckpoint.CurrentFormat)
            throw new InvalidDataException($"{jsonPath}: unsupported checkpoint format {state.Format} (expected {TrainingCheckpoint.CurrentFormat})");
        foreach (var (key, digest) in new[] { ("modelSha256", state.ModelSha256), ("optimizerSha256", state.OptimizerSha256), (TrainingCheckpoint.StateDigestKey, state.StateSha256) })
            if (!FileDigest.IsSha256(digest))
                throw new InvalidDataException($"{jsonPath}: '{key}' is {(digest is null ? "missing" : $"'{digest}'")}, not a SHA-256 of 64 lower-case hex digits");
        var actual = FileDigest.JsonSha256(bytes, TrainingCheckpoint.StateDigestKey);
        if (actual != state.StateSha256)
            throw new InvalidDataException($"{jsonPath}: {FileDigest.MismatchReason(actual, state.StateSha256!, $"'{TrainingCheckpoint.StateDigestKey}'")}");
        if (string.IsNullOrEmpty(state.ModelFile) || string.IsNullOrEmpty(state.OptimizerFile) || string.IsNullOrEmpty(state.CpuRngState))
            throw new InvalidDataException($"{jsonPath}: the checkpoint lacks its model file, optimiser file or RNG state");
        return state;
    }

    /// <summary>Loads the weights and optimiser state a checkpoint names into <paramref name="model"/> and <paramref name="optimizer"/>.</summary>
    public static void RestoreTensors(string jsonPath, TrainingCheckpoint state, nn.Module model, OptimizerHelper optimizer, Device device)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(jsonPath))!;
        var modelPath = Path.Combine(folder, state.ModelFile);
        var optimizerPath = Path.Combine(folder, state.OptimizerFile);
        // ReadState has required both digests.
        FileDigest.Verify(modelPath, state.ModelSha256!, jsonPath);
        FileDigest.Verify(optimizerPath, state.OptimizerSha256!, jsonPath);
        using (var weights = Safetensors.Load(modelPath, device))
            model.LoadStateDict(weights, strict: true, sourceName: modelPath);

        try
        {
            using var stream = File.OpenRead(optimizerPath);
            using var reader = new BinaryReader(stream);
            optimizer.load_state_dict(reader);
            if (stream.Position != stream.Length)
                throw new InvalidDataException($"{stream.Length - stream.Position} bytes follow the optimiser state");
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or EndOfStreamException or InvalidDataException or ExternalException)
        {
            throw new InvalidDataException($"{optimizerPath}: the optimiser state does not fit this model's parameters ({e.Message})", e);
        }
    }

    /// <summary>
    /// The checkpoint a run resumes from: <paramref name="resumeFrom"/> (a checkpoint's JSON, or a directory whose
    /// <c>last</c> is read) when set, else the store's <c>last</c> when it exists, else null (a fresh run).
    /// </summary>
    public static string? ResumePath(string? resumeFrom, CheckpointStore? store)
    {
        if (resumeFrom is { } resume)
            return System.IO.Directory.Exists(resume) ? Path.Combine(resume, Last + ".json") : resume;
        var last = store?.JsonPath(Last);
        return last is not null && File.Exists(last) ? last : null;
    }

    // Files of earlier saves of this checkpoint, and weights orphaned by a save that failed before its commit.
    private void DeleteUnreferenced(string name, TrainingCheckpoint state)
    {
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, name + ".*"))
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
