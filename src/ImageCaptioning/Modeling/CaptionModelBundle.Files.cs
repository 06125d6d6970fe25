using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ImageCaptioning.IO;
using ImageCaptioning.Text;
using ImageCaptioning.Vision;
using Tokenizer = Microsoft.ML.Tokenizers.Tokenizer;

namespace ImageCaptioning.Modeling;

public sealed partial class CaptionModelBundle
{
    private const int CurrentFormat = 1;
    private const string WordKind = "word";
    private const string WordPieceKind = "wordpiece";
    private const string MappedKind = "mapped";
    private static readonly string[] MappedSpecialNames = ["<pad>", "<unk>", "<start>", "<end>"];

    // The files Save writes besides the configuration, which records their SHA-256.
    private static readonly string[] HashedFiles = [ModelFileName, VocabularyFileName];

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>
    /// Writes the bundle to <paramref name="folder"/>: the files go into a temporary sibling folder which then
    /// replaces <paramref name="folder"/>, so a reader never sees a mix of old and new files. An existing folder is
    /// replaced only when it is empty or a bundle.
    /// </summary>
    /// <exception cref="IOException">The folder holds something other than a bundle, or a write failed.</exception>
    public void Save(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        if (File.Exists(target)) throw new IOException($"{target} is a file, not a bundle folder");
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any() && !File.Exists(Path.Combine(target, ConfigFileName)))
            throw new IOException($"{target} exists and is not a caption model bundle (no {ConfigFileName}); refusing to replace it");

        var parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        var name = Path.GetFileName(target);
        var staging = Path.Combine(parent, $".{name}.{Guid.NewGuid():N}.tmp");
        var previous = Path.Combine(parent, $".{name}.{Guid.NewGuid():N}.old");
        Directory.CreateDirectory(staging);
        try
        {
            Safetensors.Save(Path.Combine(staging, ModelFileName), Model.state_dict());
            WriteVocabulary(Path.Combine(staging, VocabularyFileName));
            var config = CreateConfig();
            config.Sha256 = HashedFiles.ToDictionary(name => name, name => FileDigest.Sha256(Path.Combine(staging, name)));
            AtomicFile.Write(Path.Combine(staging, ConfigFileName), stream => JsonSerializer.Serialize(stream, config, Json));

            if (Directory.Exists(target)) Directory.Move(target, previous);
            try
            {
                Directory.Move(staging, target);
            }
            catch
            {
                if (Directory.Exists(previous)) Directory.Move(previous, target);
                throw;
            }
        }
        catch
        {
            TryDeleteDirectory(staging);
            throw;
        }
        TryDeleteDirectory(previous);
    }

    /// <summary>Reads a bundle written by <see cref="Save"/>, with the model on <paramref name="device"/> (the CPU by default) in eval mode.</summary>
    /// <param name="folder">The bundle folder.</param>
    /// <param name="device">Where the model goes; the CPU when null.</param>
    /// <param name="tokenizer">
    /// For a bundle whose vocabulary is mapped over a Microsoft.ML.Tokenizers tokenizer, that tokenizer (of the type
    /// the bundle names; a tokenizer is not saved). Not needed, and ignored, for a <see cref="WordTokenizer"/> or
    /// <see cref="WordPieceTokenizer"/> bundle.
    /// </param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="ArgumentException">The bundle needs <paramref name="tokenizer"/>, or one of its type.</exception>
    /// <exception cref="FileNotFoundException">A bundle file is missing; the message names it.</exception>
    /// <exception cref="InvalidDataException">A file is malformed, differs from the SHA-256 the configuration records, or the files disagree; the message names the file.</exception>
    /// <exception cref="StateDictMismatchException">The weights' keys or shapes do not fit the configured model; the message names the file and keys.</exception>
    public static CaptionModelBundle Load(string folder, Device? device = null, Tokenizer? tokenizer = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var root = Path.GetFullPath(folder);
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"the caption model bundle {root} does not exist");
        var configPath = Path.Combine(root, ConfigFileName);
        var modelPath = Path.Combine(root, ModelFileName);
        var vocabularyPath = Path.Combine(root, VocabularyFileName);
        foreach (var path in new[] { configPath, modelPath, vocabularyPath })
            if (!File.Exists(path)) throw new FileNotFoundException($"the caption model bundle {root} lacks {Path.GetFileName(path)}", path);

        var config = ReadConfig(configPath);
        // Bundles written before the digests were recorded have none, and load unverified.
        if (config.Sha256 is { } digests)
        {
            foreach (var name in HashedFiles)
            {
                if (!digests.TryGetValue(name, out var expected) || string.IsNullOrEmpty(expected))
                    throw new InvalidDataException($"{configPath}: 'sha256' records no digest of {name}");
                FileDigest.Verify(Path.Combine(root, name), expected, ConfigFileName);
            }
        }
        var vocabulary = ReadVocabulary(config.Tokenizer!, vocabularyPath, configPath, tokenizer);
        var modelOptions = Invalid(configPath, "model", () => config.Model!.Validate());
        var decoding = Invalid(configPath, "decoding", () => (config.Decoding ?? DecodingOptions.Greedy).Validate());
        var featureExtractor = config.FeatureExtractor is { } extractor ? Invalid(configPath, "featureExtractor", extractor.ToDescription) : null;
        if (vocabulary.VocabularySize != modelOptions.VocabularySize)
            throw new InvalidDataException($"{vocabularyPath}: the vocabulary has {vocabulary.VocabularySize} tokens but {ConfigFileName} gives the model {modelOptions.VocabularySize}");
        if (vocabulary.PadId != modelOptions.PadId)
            throw new InvalidDataException($"{vocabularyPath}: the tokenizer's pad id is {vocabulary.PadId} but {ConfigFileName} gives the model {modelOptions.PadId}");
        if (featureExtractor is not null && featureExtractor.Dimension != modelOptions.FeatureDimension)
            throw new InvalidDataException($"{configPath}: the feature extractor gives {featureExtractor.Dimension}-float features but the model reads {modelOptions.FeatureDimension}");

        var model = CaptionModel.Create(modelOptions);
        try
        {
            using (var weights = Safetensors.Load(modelPath))
                model.LoadStateDict(weights, strict: true, sourceName: modelPath);
            if (device is { } target) model.to(target);
            model.eval();
            return new CaptionModelBundle(model, vocabulary, decoding, featureExtractor);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private BundleConfig CreateConfig() => new()
    {
        Format = CurrentFormat,
        LibraryVersion = LibraryVersion,
        Model = Model.Options,
        Tokenizer = Vocabulary switch
        {
            { IsMapped: true } mapped => new TokenizerConfig
            {
                Kind = MappedKind, TokenizerType = mapped.Tokenizer.GetType().FullName,
                StartMark = mapped.Options.StartMark, EndMark = mapped.Options.EndMark, UnknownText = mapped.Options.UnknownText,
            },
            { Tokenizer: WordPieceTokenizer wordPiece } => new TokenizerConfig { Kind = WordPieceKind, WordPiece = wordPiece.Options },
            _ => new TokenizerConfig { Kind = WordKind },
        },
        Decoding = Decoding,
        FeatureExtractor = FeatureExtractor is { } extractor ? FeatureExtractorConfig.From(extractor) : null,
    };

    private void WriteVocabulary(string path)
    {
        if (Vocabulary.TokenizerIds is { } tokenizerIds)
        {
            AtomicFile.Write(path, stream =>
            {
                using var writer = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true);
                foreach (var name in MappedSpecialNames) writer.Write(name + "\n");
                foreach (var id in tokenizerIds.Skip(MappedSpecialNames.Length)) writer.Write(id.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n");
            });
            return;
        }
        switch (Tokenizer)
        {
            case WordTokenizer word:
                word.Save(path);
                break;
            case WordPieceTokenizer wordPiece:
                // Only the vocabulary file's own entries: the start/end marks it lacked are added again on load,
                // which keeps them "added tokens" for decoding, as they were.
                var count = wordPiece.VocabularySize - wordPiece.AddedTokenCount;
                AtomicFile.Write(path, stream =>
                {
                    using var writer = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true);
                    for (var id = 0; id < count; id++) writer.Write(wordPiece.IdToToken(id) + "\n");
                });
                break;
        }
    }

    private static BundleConfig ReadConfig(string path)
    {
        BundleConfig? config;
        try
        {
            using var stream = File.OpenRead(path);
            config = JsonSerializer.Deserialize<BundleConfig>(stream, Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a valid bundle configuration ({e.Message})", e);
        }
        if (config is null) throw new InvalidDataException($"{path}: the configuration is empty (null)");
        if (config.Format != CurrentFormat)
            throw new InvalidDataException($"{path}: unsupported bundle format {config.Format} (this library reads format {CurrentFormat})");
        if (config.Model is null) throw new InvalidDataException($"{path}: the configuration lacks 'model'");
        if (config.Tokenizer is null) throw new InvalidDataException($"{path}: the configuration lacks 'tokenizer'");
        return config;
    }

    private static CaptionVocabulary ReadVocabulary(TokenizerConfig config, string vocabularyPath, string configPath, Tokenizer? tokenizer) => config.Kind switch
    {
        WordKind => CaptionVocabulary.Create(WordTokenizer.Load(vocabularyPath)),
        WordPieceKind => CaptionVocabulary.Create(WordPieceTokenizer.Create(vocabularyPath, config.WordPiece ?? new WordPieceTokenizerOptions())),
        MappedKind => ReadMapped(config, vocabularyPath, configPath, tokenizer),
        var kind => throw new InvalidDataException($"{configPath}: unknown tokenizer kind '{kind}' (expected '{WordKind}', '{WordPieceKind}' or '{MappedKind}')"),
    };

    private static CaptionVocabulary ReadMapped(TokenizerConfig config, string vocabularyPath, string configPath, Tokenizer? tokenizer)
    {
        if (tokenizer is null)
            throw new ArgumentException($"{configPath}: the model's vocabulary is mapped over a {config.TokenizerType}; pass that tokenizer to Load", nameof(tokenizer));
        if (tokenizer.GetType().FullName != config.TokenizerType)
            throw new ArgumentException($"{configPath}: the model's vocabulary is mapped over a {config.TokenizerType}, not a {tokenizer.GetType().FullName}", nameof(tokenizer));
        var lines = File.ReadAllLines(vocabularyPath, Encoding.UTF8);
        if (lines.Length < MappedSpecialNames.Length || !lines.Take(MappedSpecialNames.Length).SequenceEqual(MappedSpecialNames))
            throw new InvalidDataException($"{vocabularyPath}: a mapped vocabulary starts with {string.Join(", ", MappedSpecialNames)}");
        var ids = new int[lines.Length];
        for (var i = MappedSpecialNames.Length; i < lines.Length; i++)
            if (!int.TryParse(lines[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ids[i]))
                throw new InvalidDataException($"{vocabularyPath}: line {i + 1} is not a tokenizer id: '{lines[i]}'");
        var options = new CaptionVocabularyOptions { StartMark = config.StartMark, EndMark = config.EndMark, UnknownText = config.UnknownText ?? "<unk>" };
        try
        {
            return CaptionVocabulary.FromTokenizerIds(tokenizer, ids, options);
        }
        catch (ArgumentException e) when (e.ParamName == "tokenizerIds")
        {
            throw new InvalidDataException($"{vocabularyPath}: {e.Message}", e);
        }
    }

    // A setting that fails validation is reported against the configuration file and section it came from.
    private static T Invalid<T>(string path, string section, Func<T> read)
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

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private sealed class BundleConfig
    {
        public int Format { get; set; }
        public string? LibraryVersion { get; set; }
        public CaptionModelOptions? Model { get; set; }
        public TokenizerConfig? Tokenizer { get; set; }
        public DecodingOptions? Decoding { get; set; }
        public FeatureExtractorConfig? FeatureExtractor { get; set; }

        /// <summary>File name → SHA-256 (lower-case hex) of each file written with this configuration; null in older bundles.</summary>
        public Dictionary<string, string>? Sha256 { get; set; }
    }

    private sealed class TokenizerConfig
    {
        public string? Kind { get; set; }
        public string VocabularyFile { get; set; } = VocabularyFileName;
        public WordPieceTokenizerOptions? WordPiece { get; set; }
        public string? TokenizerType { get; set; }
        public string? StartMark { get; set; }
        public string? EndMark { get; set; }
        public string? UnknownText { get; set; }
    }

    private sealed class FeatureExtractorConfig
    {
        public string Name { get; set; } = "";
        public int Dimension { get; set; }
        public PreprocessingConfig? Preprocessing { get; set; }

        public static FeatureExtractorConfig From(FeatureExtractorDescription description) => new()
        {
            Name = description.Name,
            Dimension = description.Dimension,
            Preprocessing = description.Preprocessing is { } transform ? PreprocessingConfig.From(transform) : null,
        };

        public FeatureExtractorDescription ToDescription()
        {
            if (string.IsNullOrWhiteSpace(Name)) throw new ArgumentException("the feature extractor needs a name", nameof(Name));
            if (Dimension < 1) throw new ArgumentOutOfRangeException(nameof(Dimension), Dimension, "must be positive");
            return new FeatureExtractorDescription(Name, Dimension, Preprocessing?.ToOptions());
        }
    }

    private sealed class PreprocessingConfig
    {
        public ImageResizeMode? ResizeMode { get; set; }
        public int? ResizeWidth { get; set; }
        public int? ResizeHeight { get; set; }
        public int? ResizeShorterSide { get; set; }
        public int? ResizeMaxSize { get; set; }
        public int? CropWidth { get; set; }
        public int? CropHeight { get; set; }
        public float[] Mean { get; set; } = [];
        public float[] Std { get; set; } = [];

        public static PreprocessingConfig From(ImageTransformOptions options) => new()
        {
            ResizeMode = options.Resize?.Mode,
            ResizeWidth = options.Resize is { Mode: ImageResizeMode.Exact } exact ? exact.Size.Width : null,
            ResizeHeight = options.Resize is { Mode: ImageResizeMode.Exact } exactHeight ? exactHeight.Size.Height : null,
            ResizeShorterSide = options.Resize is { Mode: ImageResizeMode.ShorterSide } shorter ? shorter.ShorterSideLength : null,
            ResizeMaxSize = options.Resize?.MaxSize,
            CropWidth = options.CenterCrop?.Width,
            CropHeight = options.CenterCrop?.Height,
            Mean = [.. options.Mean],
            Std = [.. options.Std],
        };

        public ImageTransformOptions ToOptions()
        {
            var resize = ResizeMode switch
            {
                null => null,
                ImageResizeMode.Exact => ImageResize.To(ResizeWidth ?? 0, ResizeHeight ?? 0),
                ImageResizeMode.ShorterSide => ImageResize.ShorterSideTo(ResizeShorterSide ?? 0, ResizeMaxSize),
                var mode => throw new ArgumentOutOfRangeException(nameof(ResizeMode), mode, "unknown resize mode"),
            };
            return new ImageTransformOptions
            {
                Resize = resize,
                CenterCrop = CropWidth is { } width && CropHeight is { } height ? new ImageSize(width, height) : null,
                Mean = Mean,
                Std = Std,
            };
        }
    }
}
