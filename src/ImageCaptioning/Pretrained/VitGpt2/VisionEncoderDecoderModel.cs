using ImageCaptioning.Text;
using ImageCaptioning.Vision;

namespace ImageCaptioning.Pretrained.VitGpt2;

/// <summary>
/// transformers' <c>VisionEncoderDecoderModel</c> with a ViT encoder and a GPT-2 decoder (the layout of
/// <c>nlpconnect/vit-gpt2-image-captioning</c>): <c>encoder.*</c>, <c>decoder.*</c> and, when the encoder's width differs
/// from the decoder's, <c>enc_to_dec_proj</c>.
/// </summary>
internal sealed class VisionEncoderDecoderModel : PretrainedCaptionModel
{
    /// <summary>config.json's <c>architectures</c> entry.</summary>
    public const string ArchitectureName = "VisionEncoderDecoderModel";

    /// <summary>config.json's <c>model_type</c>.</summary>
    public const string ModelType = "vision-encoder-decoder";

    private readonly VitEncoder encoder;
    private readonly Gpt2Decoder decoder;
    private readonly Linear? projection;

    public VisionEncoderDecoderModel(VitConfig encoderConfig, Gpt2Config decoderConfig) : base(nameof(VisionEncoderDecoderModel))
    {
        (EncoderConfig, DecoderConfig) = (encoderConfig, decoderConfig);
        encoder = this.Register("encoder", new VitEncoder(encoderConfig));
        decoder = this.Register("decoder", new Gpt2Decoder(decoderConfig));
        if (encoderConfig.HiddenSize != decoderConfig.Embedding)
            projection = this.Register("enc_to_dec_proj", nn.Linear(encoderConfig.HiddenSize, decoderConfig.Embedding));
    }

    public VitConfig EncoderConfig { get; }

    public Gpt2Config DecoderConfig { get; }

    public override int VocabularySize => DecoderConfig.VocabularySize;

    public override int? MaxPositions => DecoderConfig.Positions;

    protected override void RegisterComponents()
    {
    }

    /// <summary>Keys of a checkpoint the model does not read: GPT-2's causal-mask buffers and ViT's unused pooler.</summary>
    public static bool IsIgnorable(string key) =>
        (key.StartsWith("decoder.transformer.h.", StringComparison.Ordinal)
            && (key.EndsWith(".attn.bias", StringComparison.Ordinal) || key.EndsWith(".attn.masked_bias", StringComparison.Ordinal)
                || key.EndsWith(".crossattention.bias", StringComparison.Ordinal) || key.EndsWith(".crossattention.masked_bias", StringComparison.Ordinal)))
        || key.StartsWith("encoder.pooler.", StringComparison.Ordinal);

    /// <summary>The head tied to the token embeddings may be saved beside them; it must then have their shape.</summary>
    public IReadOnlyDictionary<string, long[]> TiedKeys => DecoderConfig.TieWordEmbeddings
        ? new Dictionary<string, long[]> { ["decoder.lm_head.weight"] = [DecoderConfig.VocabularySize, DecoderConfig.Embedding] }
        : new Dictionary<string, long[]>();

    public override EncoderLayout Encoder => new("encoder.", "encoder.encoder.layer.", encoder.Layers, "encoder.layernorm.");

    public override Tensor Logits(Tensor pixelValues, Tensor decoderInputIds)
    {
        using var scope = torch.NewDisposeScope();
        using var cache = StartCache(pixelValues, 1);
        return decoder.Forward(decoderInputIds, 0, cache, lastOnly: false).MoveToOuterDisposeScope();
    }

    public override GenerationSession Start(Tensor pixelValues, int copies)
    {
        using var scope = torch.NewDisposeScope();
        return new Session(decoder, StartCache(pixelValues, copies));
    }

    private Gpt2Cache StartCache(Tensor pixelValues, int copies)
    {
        using var scope = torch.NewDisposeScope();
        var hidden = encoder.forward(pixelValues);
        if (projection is not null) hidden = projection.forward(hidden);
        var crossKeys = new Tensor[decoder.Blocks.Count];
        var crossValues = new Tensor[decoder.Blocks.Count];
        for (var i = 0; i < crossKeys.Length; i++)
        {
            var (keys, values) = decoder.Blocks[i].CrossKeysAndValues(hidden);
            (crossKeys[i], crossValues[i]) = copies == 1 ? (keys, values) : (keys.repeat_interleave(copies, 0), values.repeat_interleave(copies, 0));
        }
        return new Gpt2Cache(crossKeys, crossValues);
    }

    private sealed class Session(Gpt2Decoder decoder, Gpt2Cache cache) : GenerationSession
    {
        public override Tensor Next(Tensor tokens) => decoder.Forward(tokens, cache.Length, cache, lastOnly: true);

        public override void Reorder(Tensor rows) => cache.Reorder(rows);

        public override void Dispose() => cache.Dispose();
    }

    /// <summary>
    /// Loads a folder of this architecture: the configs, the weights (every tensor checked before any is copied), the
    /// image processor and the GPT-2 tokenizer, whose ids must all have embedding rows.
    /// </summary>
    public static PretrainedArchitectureParts Load(PretrainedFolder folder, Device device)
    {
        var encoderConfig = VitConfig.Read(folder.Config.Section("encoder"));
        var decoderSection = folder.Config.Section("decoder");
        var decoderConfig = Gpt2Config.Read(decoderSection);
        var generation = GenerationSettings.Resolve(folder, decoderSection);
        var processor = PretrainedImageProcessor.FromConfig(folder.ReadPreprocessor(), [0.5f, 0.5f, 0.5f], [0.5f, 0.5f, 0.5f], PilFilter.Bilinear,
            new ImageSize(encoderConfig.ImageSize, encoderConfig.ImageSize));
        if (processor.Size is { } size && (size.Width != encoderConfig.ImageSize || size.Height != encoderConfig.ImageSize))
            throw new InvalidDataException($"{folder.File(PretrainedFolder.PreprocessorFile)}: 'size' is {size.Width}x{size.Height} but the encoder's 'image_size' in {PretrainedFolder.ConfigFile} is {encoderConfig.ImageSize}");

        var tokenizerConfig = folder.ReadTokenizerConfig();
        var tokenizer = ByteLevelBpeTokenizer.Create(folder.RequireFile("vocab.json", "the GPT-2 tokenizer"), folder.RequireFile("merges.txt", "the GPT-2 tokenizer"),
            tokenizerConfig?.Bool("clean_up_tokenization_spaces", false) ?? false);
        if (tokenizer.VocabularySize > decoderConfig.VocabularySize)
            throw new InvalidDataException($"{folder.File("vocab.json")}: the vocabulary has {tokenizer.VocabularySize} tokens but 'decoder.transformer.wte.weight' has {decoderConfig.VocabularySize} rows ('decoder.vocab_size' in {PretrainedFolder.ConfigFile}): the tokenizer is not this model's");
        foreach (var (role, id) in new[] { ("decoder_start_token_id", generation.DecoderStartId), ("pad_token_id", generation.PadId) }.Concat(generation.EndIds.Select(e => ("eos_token_id", e))))
            if ((uint)id >= (uint)decoderConfig.VocabularySize)
                throw new InvalidDataException($"{folder.Config.FilePath}: '{role}' is {id}, outside the decoder's {decoderConfig.VocabularySize} tokens");

        var model = new VisionEncoderDecoderModel(encoderConfig, decoderConfig);
        var report = PretrainedWeights.LoadInto(model, folder, device, IsIgnorable, model.TiedKeys);
        // A GPT-2 caption is its BPE ids and the end token, so that fine-tuning teaches the model where to stop.
        IReadOnlyList<int> Labels(string caption) => [.. tokenizer.Encode(caption), generation.EndIds.Count > 0 ? generation.EndIds[0] : tokenizer.EndId];
        return new PretrainedArchitectureParts(model, processor, tokenizer, generation, report, EncodeLabels: Labels, SourceFolder: folder.Path);
    }
}
