namespace ImageCaptioning.Pretrained;

/// <summary>
/// A Hugging Face checkpoint folder as the hub lays it out: config.json (with the architecture and, for an
/// encoder-decoder, its <c>encoder</c>/<c>decoder</c> sub-configs), preprocessor_config.json, generation_config.json
/// when present, the weights in model.safetensors or pytorch_model.bin, and the tokenizer's files. It reads the
/// configuration files when opened; the weights are read on demand.
/// </summary>
internal sealed class PretrainedFolder
{
    public const string ConfigFile = "config.json";
    public const string PreprocessorFile = "preprocessor_config.json";
    public const string GenerationFile = "generation_config.json";
    public const string TokenizerConfigFile = "tokenizer_config.json";
    public const string SafetensorsFile = "model.safetensors";
    public const string PytorchFile = "pytorch_model.bin";

    private PretrainedFolder(string path, HubJson config, HubJson? generation)
    {
        Path = path;
        Config = config;
        Generation = generation;
    }

    /// <summary>The folder's full path.</summary>
    public string Path { get; }

    /// <summary>config.json.</summary>
    public HubJson Config { get; }

    /// <summary>generation_config.json, or null when the folder has none (the defaults then come from config.json).</summary>
    public HubJson? Generation { get; }

    /// <summary>Opens <paramref name="folder"/> and reads config.json and, when present, generation_config.json.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">config.json is missing; the message names it.</exception>
    /// <exception cref="InvalidDataException">A configuration file is not a JSON object; the message names it.</exception>
    public static PretrainedFolder Open(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var path = System.IO.Path.GetFullPath(folder);
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"the checkpoint folder '{path}' does not exist");
        var config = HubJson.Read(RequireFile(path, ConfigFile, "the model's configuration"), "model configuration (config.json)");
        var generationPath = System.IO.Path.Combine(path, GenerationFile);
        var generation = System.IO.File.Exists(generationPath) ? HubJson.Read(generationPath, "generation configuration") : null;
        return new PretrainedFolder(path, config, generation);
    }

    /// <summary>The path of <paramref name="name"/> in the folder, whether or not it exists.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>The path of <paramref name="name"/>, which must exist.</summary>
    /// <exception cref="FileNotFoundException">The file is missing; the message names it and says what it holds.</exception>
    public string RequireFile(string name, string holds) => RequireFile(Path, name, holds);

    /// <summary>preprocessor_config.json, which must exist.</summary>
    public HubJson ReadPreprocessor() => HubJson.Read(RequireFile(PreprocessorFile, "the image processor's settings"), "image processor configuration");

    /// <summary>tokenizer_config.json, or null when the folder has none.</summary>
    public HubJson? ReadTokenizerConfig() =>
        System.IO.File.Exists(File(TokenizerConfigFile)) ? HubJson.Read(File(TokenizerConfigFile), "tokenizer configuration") : null;

    /// <summary>
    /// The weights, from model.safetensors when present (it holds no code and maps straight to memory), otherwise
    /// from pytorch_model.bin through the restricted unpickler, which refuses any pickle that references code.
    /// The tensors stay on the CPU: they are copied into the model, which may live elsewhere.
    /// </summary>
    /// <exception cref="FileNotFoundException">Neither file exists (a sharded checkpoint's index is named as unsupported).</exception>
    /// <exception cref="TensorFileException">The file is truncated, malformed or hostile; the message names it.</exception>
    public (StateDict Tensors, string SourceFile) ReadWeights()
    {
        var safetensors = File(SafetensorsFile);
        if (System.IO.File.Exists(safetensors)) return (Safetensors.Load(safetensors), safetensors);
        var pytorch = File(PytorchFile);
        if (System.IO.File.Exists(pytorch)) return (PthReader.ReadStateDict(pytorch), pytorch);
        foreach (var index in new[] { SafetensorsFile + ".index.json", PytorchFile + ".index.json" })
            if (System.IO.File.Exists(File(index)))
                throw new FileNotFoundException($"{File(index)}: sharded checkpoints are not supported; save the model as one {SafetensorsFile} or {PytorchFile}", File(index));
        throw new FileNotFoundException($"the checkpoint folder '{Path}' has no weights: neither {SafetensorsFile} nor {PytorchFile}", safetensors);
    }

    private static string RequireFile(string folder, string name, string holds)
    {
        var path = System.IO.Path.Combine(folder, name);
        return System.IO.File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: a checkpoint folder needs it for {holds}", path);
    }
}
