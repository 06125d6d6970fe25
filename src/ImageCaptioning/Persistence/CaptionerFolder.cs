using System.Text.Json;
using ImageCaptioning.IO;
using ImageCaptioning.Modeling;
using Tokenizer = Microsoft.ML.Tokenizers.Tokenizer;

namespace ImageCaptioning.Persistence;

/// <summary>
/// The folder a captioner or a bare model bundle is saved to, as one unit: <c>config.json</c> (the model's options,
/// tokenizer, decoding defaults, the features and their preprocessing, the captioner's settings and the SHA-256 of
/// the other files), <c>model.safetensors</c> and <c>vocab.txt</c>. It is written once, by a folder swap
/// (<see cref="AtomicFolder"/>). Format 1 folders, whose captioner settings were a second file written after the
/// swap (<c>pipeline.json</c>), load with <see cref="FolderIntegrity.AllowEdited"/>.
/// </summary>
internal static class CaptionerFolder
{
    public const string ConfigFileName = "config.json";
    public const string ModelFileName = "model.safetensors";
    public const string VocabularyFileName = "vocab.txt";

    /// <summary>Where format 1 kept the captioner's settings.</summary>
    public const string Format1SettingsFileName = "pipeline.json";

    private const int CurrentFormat = 2;
    private const string CaptionerKey = "captioner";
    private const string DigestsKey = "sha256";

    // The files Save writes besides the configuration, which records their SHA-256.
    private static readonly string[] HashedFiles = [ModelFileName, VocabularyFileName];

    /// <summary>Writes <paramref name="bundle"/>, with the captioner's <paramref name="settings"/> when it is one, to <paramref name="folder"/>.</summary>
    /// <exception cref="IOException">The folder holds something other than a bundle, or a write failed.</exception>
    public static void Save(string folder, CaptionModelBundle bundle, CaptionerSettings? settings)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        ArgumentNullException.ThrowIfNull(bundle);
        AtomicFolder.Write(folder, ConfigFileName, "caption model bundle", staging =>
        {
            Safetensors.Save(Path.Combine(staging, ModelFileName), bundle.Model.state_dict());
            TokenizerConfig.WriteVocabulary(Path.Combine(staging, VocabularyFileName), bundle.Vocabulary);
            var config = new FolderConfig
            {
                Format = CurrentFormat,
                LibraryVersion = LibraryVersion.Current,
                Tokenizer = TokenizerConfig.From(bundle.Vocabulary),
                Decoding = bundle.Decoding,
                FeatureExtractor = bundle.FeatureExtractor is { } extractor ? FeatureExtractorConfig.From(extractor) : null,
                Captioner = settings is null ? null : CaptionerConfig.From(settings),
                Sha256 = HashedFiles.ToDictionary(name => name, name => FileDigest.Sha256(Path.Combine(staging, name))),
            };
            ModelConfig.Write(config, bundle.Model);
            config.Sha256[ConfigFileName] = SettingsDigest(JsonSerializer.SerializeToUtf8Bytes(config, FolderConfig.Json));
            AtomicFile.Write(Path.Combine(staging, ConfigFileName), stream => JsonSerializer.Serialize(stream, config, FolderConfig.Json));
        });
    }

    /// <summary>Reads the model bundle of a folder written by <see cref="Save"/> (or by format 1's writer), skipping any captioner settings.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="ArgumentException">The vocabulary needs <paramref name="tokenizer"/>, or one of its type.</exception>
    /// <exception cref="FileNotFoundException">A file is missing; the message names it.</exception>
    /// <exception cref="InvalidDataException">A file is malformed, differs from the SHA-256 the configuration records, or the files disagree; the message names the file.</exception>
    /// <exception cref="StateDictMismatchException">The weights' keys or shapes do not fit the configured model.</exception>
    public static CaptionModelBundle LoadBundle(string folder, Device? device, Tokenizer? tokenizer, FolderIntegrity integrity) =>
        Read(folder, device, tokenizer, captioner: false, integrity).Bundle;

    /// <summary>
    /// Reads a saved captioner: its bundle, its settings, and the file they came from (config.json, or a format-1
    /// folder's pipeline.json) for later errors about them.
    /// </summary>
    /// <exception cref="FileNotFoundException">A file is missing (in a format-1 folder, pipeline.json); the message names it.</exception>
    /// <exception cref="InvalidDataException">As <see cref="LoadBundle"/>, and the settings are missing or invalid; the message names the file and key.</exception>
    public static (CaptionModelBundle Bundle, CaptionerSettings Settings, string SettingsPath) LoadCaptioner(string folder, Device? device, Tokenizer? tokenizer,
        FolderIntegrity integrity)
    {
        var (bundle, settings, settingsPath) = Read(folder, device, tokenizer, captioner: true, integrity);
        return (bundle, settings!, settingsPath);
    }

    // The settings are read (with captioner) before the weights, so that bad settings cost no model.
    private static (CaptionModelBundle Bundle, CaptionerSettings? Settings, string SettingsPath) Read(string folder, Device? device, Tokenizer? tokenizer, bool captioner,
        FolderIntegrity integrity)
    {
        if (!Enum.IsDefined(integrity)) throw new ArgumentOutOfRangeException(nameof(integrity), integrity, "not a FolderIntegrity");
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var root = Path.GetFullPath(folder);
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"the caption model bundle {root} does not exist");
        var configPath = Path.Combine(root, ConfigFileName);
        var modelPath = Path.Combine(root, ModelFileName);
        var vocabularyPath = Path.Combine(root, VocabularyFileName);
        foreach (var path in new[] { configPath, modelPath, vocabularyPath })
            if (!File.Exists(path)) throw new FileNotFoundException($"the caption model bundle {root} lacks {Path.GetFileName(path)}", path);

        var configBytes = JsonFile.ReadBytes(configPath, "bundle configuration");
        var config = ReadConfig(configBytes, configPath);
        VerifyDigests(config, configBytes, root, configPath, integrity);
        var (settings, settingsPath) = captioner ? ReadSettings(config, root, configPath) : (null, configPath);
        var vocabulary = config.Tokenizer!.ReadVocabulary(vocabularyPath, configPath, tokenizer);
        var decoding = config.Decoding ?? DecodingOptions.Greedy;
        var featureExtractor = config.FeatureExtractor is { } extractor ? Invalid(configPath, "featureExtractor", extractor.ToDescription) : null;
        var model = CreateModel(config, configPath);
        try
        {
            if (vocabulary.VocabularySize != model.VocabularySize)
                throw new InvalidDataException($"{vocabularyPath}: the vocabulary has {vocabulary.VocabularySize} tokens but {ConfigFileName} gives the model {model.VocabularySize}");
            if (vocabulary.PadId != model.PadId)
                throw new InvalidDataException($"{vocabularyPath}: the tokenizer's pad id is {vocabulary.PadId} but {ConfigFileName} gives the model {model.PadId}");
            if (featureExtractor is not null && featureExtractor.Dimension != model.InputDimension)
                throw new InvalidDataException($"{configPath}: the feature extractor gives {featureExtractor.Dimension}-float features but the model reads {model.InputDimension}");
            using (var weights = Safetensors.Load(modelPath))
                model.LoadStateDict(weights, strict: true, sourceName: modelPath);
            if (device is { } target) model.to(target);
            model.eval();
            return (new CaptionModelBundle(model, vocabulary, decoding, featureExtractor), settings, settingsPath);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The integrity check, before anything else of the folder is used. In <see cref="FolderIntegrity.Verified"/> it
    /// cannot be switched off by damage: a missing section or digest, a key of another name or casing, a malformed
    /// digest and a format without digests are each refused, naming config.json and the key.
    /// </summary>
    private static void VerifyDigests(FolderConfig config, byte[] configBytes, string root, string configPath, FolderIntegrity integrity)
    {
        var verified = integrity == FolderIntegrity.Verified;
        const string Remedy = $"if the folder was edited on purpose, load it with {nameof(FolderIntegrity)}.{nameof(FolderIntegrity.AllowEdited)} and save it again";
        if (config.Sha256 is not { } digests)
        {
            if (!verified) return;
            throw new InvalidDataException(config.Format == 1
                ? $"{configPath}: a format-1 folder records no SHA-256 digests, so nothing shows that its files are as they were saved; {Remedy}"
                : $"{configPath}: '{DigestsKey}' is missing, so nothing shows that the folder's files are as they were saved; {Remedy}");
        }
        foreach (var (name, digest) in digests)
        {
            if (name != ConfigFileName && !HashedFiles.Contains(name, StringComparer.Ordinal))
                throw new InvalidDataException($"{configPath}: '{DigestsKey}' has the key '{name}'; its keys are {ConfigFileName}, {string.Join(", ", HashedFiles)}");
            if (!FileDigest.IsSha256(digest))
                throw new InvalidDataException($"{configPath}: '{DigestsKey}.{name}' is {(digest is null ? "null" : $"'{digest}'")}, not a SHA-256 of 64 lower-case hex digits");
        }
        foreach (var name in HashedFiles)
        {
            if (digests.TryGetValue(name, out var expected)) FileDigest.Verify(Path.Combine(root, name), expected, ConfigFileName);
            else if (verified) throw new InvalidDataException($"{configPath}: '{DigestsKey}' records no digest of {name}; {Remedy}");
        }
        if (!verified) return;
        if (!digests.TryGetValue(ConfigFileName, out var recorded))
            throw new InvalidDataException($"{configPath}: '{DigestsKey}' records no digest of the settings (key '{ConfigFileName}'): the folder was saved before they were covered; {Remedy}");
        var actual = SettingsDigest(configBytes);
        if (actual != recorded)
            throw new InvalidDataException($"{configPath}: the settings' SHA-256 is {actual} but '{DigestsKey}.{ConfigFileName}' records {recorded}: config.json was changed or damaged after it was saved; {Remedy}");
    }

    private static string SettingsDigest(ReadOnlySpan<byte> configJson) => FileDigest.JsonSha256(configJson, DigestsKey);

    // Sizes from a hand-edited configuration (AllowEdited; a verified one is as saved) can ask libtorch for more memory
    // than there is: its refusal is an error of the configuration, not of the library.
    private static CaptionModel CreateModel(FolderConfig config, string configPath)
    {
        try
        {
            return ModelConfig.Create(config, configPath);
        }
        catch (System.Runtime.InteropServices.ExternalException e)
        {
            var reason = e.Message.Split('\n', 2)[0];
            throw new InvalidDataException($"{configPath}: the model its settings describe cannot be built, check its sizes ({reason})", e);
        }
    }

    private static FolderConfig ReadConfig(byte[] bytes, string path)
    {
        var config = JsonFile.Parse<FolderConfig>(bytes, path, FolderConfig.Json, "bundle configuration");
        if (config.Format is < 1 or > CurrentFormat)
            throw new InvalidDataException($"{path}: unsupported bundle format {config.Format} (this library reads formats 1 to {CurrentFormat})");
        ModelConfig.CheckOneArchitecture(config, path);
        if (config.Tokenizer is null) throw new InvalidDataException($"{path}: the configuration lacks 'tokenizer'");
        return config;
    }

    private static (CaptionerSettings Settings, string Path) ReadSettings(FolderConfig config, string root, string configPath)
    {
        if (config.Format == 1)
        {
            var legacyPath = Path.Combine(root, Format1SettingsFileName);
            if (!File.Exists(legacyPath)) throw new FileNotFoundException($"'{root}' is not a saved captioner: {Format1SettingsFileName} is missing", legacyPath);
            return (ReadJson<CaptionerConfig>(legacyPath, "captioner settings file").ToSettings(legacyPath, keyPrefix: ""), legacyPath);
        }
        var section = config.Captioner ?? throw new InvalidDataException(
            $"{configPath}: '{root}' is not a saved captioner: the configuration lacks '{CaptionerKey}' (CaptionModelBundle.Save writes a model alone; Captioner.Save writes a captioner)");
        return (section.ToSettings(configPath, CaptionerKey + "."), configPath);
    }

    private static T ReadJson<T>(string path, string what) where T : class => JsonFile.Read<T>(path, FolderConfig.Json, what);

    // A setting that fails validation is reported against the configuration file and section it came from.
    /// <summary>Runs <paramref name="read"/>, turning an invalid setting into an error that names the file and section.</summary>
    internal static T Invalid<T>(string path, string section, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{path}: '{section}' is invalid: {e.Message}", e);
        }
    }
}
