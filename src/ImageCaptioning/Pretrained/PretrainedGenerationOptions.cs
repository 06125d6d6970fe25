namespace ImageCaptioning.Pretrained;

/// <summary>
/// Overrides of a checkpoint's generation defaults (generation_config.json, else config.json, else its decoder's
/// config, else Hugging Face's defaults); null keeps the checkpoint's value. Each value is checked as it is set.
/// </summary>
public sealed record PretrainedGenerationOptions
{
    /// <summary>The most tokens of a caption sequence, the decoder's start token (and any prompt) included, as Hugging Face counts <c>max_length</c>.</summary>
    public int? MaxLength { get; init => field = value is { } v ? OptionGuard.AtLeast(v, 2) : null; }

    /// <summary>Beams per image: 1 is greedy search.</summary>
    public int? NumBeams { get; init => field = value is { } v ? OptionGuard.AtLeast(v, 1) : null; }

    /// <summary>Beam hypotheses are ranked by log-probability / (generated tokens)^LengthPenalty.</summary>
    public double? LengthPenalty { get; init => field = value is { } v ? OptionGuard.Require(v, double.IsFinite(v), "must be finite") : null; }

    /// <summary>Whether beam search stops for an image as soon as it has NumBeams finished hypotheses.</summary>
    public bool? EarlyStopping { get; init; }

    /// <summary>Which of transformers' beam searches to follow; null keeps the settings' (by default <see cref="TransformersBeamSearch.Vectorized"/>).</summary>
    public TransformersBeamSearch? BeamSearch { get; init => field = value is { } v ? OptionGuard.Defined(v) : null; }

    /// <summary>Whether captions carry each token's log-probability sum (greedy search computes a log-softmax per step for it).</summary>
    public bool ComputeLogProbability { get; init; } = true;
}

/// <summary>The generation settings in force for one call: the checkpoint's defaults with the overrides applied.</summary>
/// <param name="MaxLength">Most tokens of a sequence, start token included.</param>
/// <param name="NumBeams">Beams per image (1: greedy).</param>
/// <param name="LengthPenalty">Exponent of the length normalisation of beam hypotheses.</param>
/// <param name="EarlyStopping">Whether an image's beam search ends once it has NumBeams finished hypotheses.</param>
/// <param name="DecoderStartId">The decoder's first input token.</param>
/// <param name="EndIds">Tokens that end a caption (empty: captions run to MaxLength).</param>
/// <param name="PadId">The token finished rows are padded with.</param>
public sealed record GenerationSettings(int MaxLength, int NumBeams, double LengthPenalty, bool EarlyStopping, int DecoderStartId,
    IReadOnlyList<int> EndIds, int PadId)
{
    /// <summary>Which of transformers' beam searches runs when NumBeams is above 1 (checkpoints do not name one).</summary>
    public TransformersBeamSearch BeamSearch { get; init => field = OptionGuard.Defined(value); } = TransformersBeamSearch.Vectorized;

    /// <summary>
    /// The checkpoint's defaults, as Hugging Face's <c>GenerationConfig</c> resolves them: generation_config.json when
    /// the folder has one, else config.json's top level, then its <c>decoder</c> sub-config; <c>decoder_start_token_id</c>
    /// falls back to <c>bos_token_id</c>, <c>pad_token_id</c> to the first end token.
    /// </summary>
    /// <exception cref="InvalidDataException">No start token is configured, or a value is malformed; the message names the file and key.</exception>
    internal static GenerationSettings Resolve(PretrainedFolder folder, HubJson? decoderConfig)
    {
        // As transformers: a generation_config.json is the whole story (its missing keys take the class defaults);
        // without one, config.json's top level, then the decoder's config, supply the generation attributes.
        var sources = folder.Generation is { } generation ? [generation] : new[] { folder.Config, decoderConfig }.OfType<HubJson>().ToArray();
        T? First<T>(Func<HubJson, T?> read) where T : struct
        {
            foreach (var source in sources)
                if (read(source) is { } value) return value;
            return null;
        }
        IReadOnlyList<int>? FirstList(string key)
        {
            foreach (var source in sources)
                if (source.IntOrInts(key) is { } value) return value;
            return null;
        }
        HubJson? Where(string key) => sources.FirstOrDefault(s => s.Has(key));

        var maxLength = First(s => s.OptionalInt("max_length")) ?? 20;
        if (maxLength < 2) throw Where("max_length")!.Invalid("max_length", $"is {maxLength}; it must be at least 2 (the start token and one more)");
        var beams = First(s => s.OptionalInt("num_beams")) ?? 1;
        if (beams < 1) throw Where("num_beams")!.Invalid("num_beams", $"is {beams}; it must be at least 1");
        var lengthPenalty = First(s => s.Has("length_penalty") ? s.Double("length_penalty", 1.0) : (double?)null) ?? 1.0;
        var earlyStopping = First(s => s.Value("early_stopping") is { } v && v.GetValueKind() == System.Text.Json.JsonValueKind.String
            ? throw s.Invalid("early_stopping", "is \"never\"-style text; only true and false are supported")
            : s.Has("early_stopping") ? s.Bool("early_stopping", false) : (bool?)null) ?? false;
        var start = First(s => s.OptionalInt("decoder_start_token_id")) ?? First(s => s.OptionalInt("bos_token_id"))
            ?? throw new InvalidDataException($"{folder.Config.FilePath}: neither 'decoder_start_token_id' nor 'bos_token_id' is set (nor in {PretrainedFolder.GenerationFile} or 'decoder'): the decoder's start token is unknown");
        var ends = FirstList("eos_token_id") ?? [];
        var pad = First(s => s.OptionalInt("pad_token_id")) ?? (ends.Count > 0 ? ends[0] : start);
        return new GenerationSettings(maxLength, beams, lengthPenalty, earlyStopping, start, ends, pad);
    }

    /// <summary>These settings with <paramref name="options"/>' overrides.</summary>
    public GenerationSettings With(PretrainedGenerationOptions? options) => options is null ? this : this with
    {
        MaxLength = options.MaxLength ?? MaxLength,
        NumBeams = options.NumBeams ?? NumBeams,
        LengthPenalty = options.LengthPenalty ?? LengthPenalty,
        EarlyStopping = options.EarlyStopping ?? EarlyStopping,
        BeamSearch = options.BeamSearch ?? BeamSearch,
    };
}
