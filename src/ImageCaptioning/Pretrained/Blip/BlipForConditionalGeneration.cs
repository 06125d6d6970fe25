using ImageCaptioning.Vision;

namespace ImageCaptioning.Pretrained.Blip;

/// <summary>
/// Hugging Face's <c>BlipForConditionalGeneration</c> (the layout of <c>Salesforce/blip-image-captioning-base</c> and
/// <c>-large</c>): <c>vision_model</c>, a ViT whose whole normalised last hidden state is the image embedding, and
/// <c>text_decoder</c>, a BERT decoder that cross-attends to it. Its state_dict keys are the checkpoint's.
/// Generation starts from <c>[DEC]</c> (<c>text_config.bos_token_id</c>), optionally followed by a prompt's tokens
/// (BLIP's processor tokenizes "a picture of" as [CLS] … [SEP]; generate replaces [CLS] by [DEC] and drops the [SEP]),
/// and ends at <c>[SEP]</c> (<c>text_config.sep_token_id</c>), padding with <c>text_config.pad_token_id</c>.
/// </summary>
internal sealed class BlipForConditionalGeneration : PretrainedCaptionModel
{
    /// <summary>The class config.json's <c>architectures</c> names.</summary>
    public const string ArchitectureName = "BlipForConditionalGeneration";

    /// <summary>config.json's <c>model_type</c>.</summary>
    public const string ModelType = "blip";

    private const string TiedWeight = "text_decoder.cls.predictions.decoder.weight", TiedBias = "text_decoder.cls.predictions.decoder.bias";

    private readonly BlipVisionModel vision;
    private readonly BlipTextDecoder text;

    public BlipForConditionalGeneration(BlipConfig config) : base(nameof(BlipForConditionalGeneration))
    {
        Config = config;
        vision = this.Register("vision_model", new BlipVisionModel(config.Vision));
        text = this.Register("text_decoder", new BlipTextDecoder(config.Text));
    }

    /// <summary>The configuration.</summary>
    public BlipConfig Config { get; }

    public override int VocabularySize => Config.Text.VocabSize;

    public override int? MaxPositions => Config.Text.MaxPositions;

    /// <summary>text_config's <c>label_smoothing</c>, as <c>BlipTextLMHeadModel</c> applies it to the labelled loss.</summary>
    public override double LabelSmoothing => Config.Text.LabelSmoothing;

    protected override void RegisterComponents()
    {
    }

    /// <summary>The buffer older transformers saved that the model recomputes: the text embeddings' position ids.</summary>
    public static bool IsIgnorable(string key) => key == "text_decoder.bert.embeddings.position_ids";

    /// <summary>The decoder's output layer is tied to the word embeddings; a file may hold it (torch.save does), with their shape.</summary>
    public IReadOnlyDictionary<string, long[]> TiedKeys => new Dictionary<string, long[]>
    {
        [TiedWeight] = [Config.Text.VocabSize, Config.Text.HiddenSize],
        [TiedBias] = [Config.Text.VocabSize],
    };

    public override EncoderLayout Encoder => new("vision_model.", "vision_model.encoder.layers.", Config.Vision.Layers, "vision_model.post_layernorm.");

    /// <summary>The image embeddings [B, patches + 1, D] the decoder attends to.</summary>
    public Tensor EncodeImages(Tensor pixelValues) => vision.forward(pixelValues);

    public override Tensor Logits(Tensor pixelValues, Tensor decoderInputIds) => Logits(pixelValues, decoderInputIds, null);

    /// <summary>Teacher-forced logits [B, L, V]; <paramref name="attentionMask"/> [B, L] marks real tokens with 1 (null: all real).</summary>
    public Tensor Logits(Tensor pixelValues, Tensor decoderInputIds, Tensor? attentionMask)
    {
        using var scope = torch.NewDisposeScope();
        using var image = text.ImageKeysValues(vision.forward(pixelValues));
        return text.forward(decoderInputIds, image, attentionMask).MoveToOuterDisposeScope();
    }

    public override GenerationSession Start(Tensor pixelValues, int copies)
    {
        using var scope = torch.NewDisposeScope();
        var image = text.ImageKeysValues(vision.forward(pixelValues));
        if (copies > 1)
        {
            using var rows = torch.arange(pixelValues.size(0), device: pixelValues.device).repeat_interleave(copies);
            image.Select(rows);
        }
        return new Session(text, image, new BlipKeyValueCache(Config.Text.Layers));
    }

    private sealed class Session(BlipTextDecoder decoder, BlipImageKeysValues image, BlipKeyValueCache cache) : GenerationSession
    {
        public override Tensor Next(Tensor tokens)
        {
            using var scope = torch.NewDisposeScope();
            return decoder.forward(tokens, image, null, cache).select(1, -1).to(ScalarType.Float32).MoveToOuterDisposeScope();
        }

        public override void Reorder(Tensor rows) => cache.Select(rows);

        public override void Dispose()
        {
            cache.Dispose();
            image.Dispose();
        }
    }

    /// <summary>
    /// Loads a BLIP captioning folder: config.json's <c>vision_config</c> and <c>text_config</c>, the weights (every
    /// tensor checked before any is copied), the image processor (BLIP's defaults: 384×384 bicubic, CLIP's mean and
    /// std) and the BERT WordPiece tokenizer, whose [DEC], [SEP] and [PAD] ids must be the config's.
    /// </summary>
    public static PretrainedArchitectureParts Load(PretrainedFolder folder, Device device)
    {
        var config = BlipConfig.Read(folder.Config);
        var textSection = folder.Config.Section("text_config");
        if (folder.Generation is { } generationFile) BlipConfig.RefuseUnsupportedGeneration(generationFile);
        else
        {
            BlipConfig.RefuseUnsupportedGeneration(folder.Config);
            BlipConfig.RefuseUnsupportedGeneration(textSection);
        }
        // Hugging Face's BLIP generate passes [DEC] as the first input, sep_token_id as the end and pad_token_id as the pad,
        // whatever the text config's eos_token_id says; the lengths and beams resolve as for every checkpoint.
        var generation = GenerationSettings.Resolve(folder, textSection) with
        {
            DecoderStartId = config.Text.BosTokenId,
            EndIds = [config.Text.SepTokenId],
            PadId = config.Text.PadTokenId,
        };
        var imageSize = config.Vision.ImageSize;
        var processor = PretrainedImageProcessor.FromConfig(folder.ReadPreprocessor(), ClipMean, ClipStd, PilFilter.Bicubic, new ImageSize(imageSize, imageSize));
        if (processor.Size is not { } size || size.Width != imageSize || size.Height != imageSize)
            throw new InvalidDataException($"{folder.File(PretrainedFolder.PreprocessorFile)}: 'size' must be {imageSize}x{imageSize}, the vision model's 'image_size' in {PretrainedFolder.ConfigFile}");
        var tokenizer = BlipTokenizer.Create(folder, config.Text);

        var model = new BlipForConditionalGeneration(config);
        var report = PretrainedWeights.LoadInto(model, folder, device, IsIgnorable, model.TiedKeys, WithTiedNames);
        // A training caption's labels: its WordPiece ids and [SEP], read behind [DEC] (the input_ids of BLIP's labelled
        // forward are [DEC], the caption, [SEP]; the processor's [CLS] is replaced by [DEC], as BLIP's generate does).
        var end = config.Text.SepTokenId;
        return new PretrainedArchitectureParts(model, processor, tokenizer, generation, report, prompt => tokenizer.EncodeToIds(prompt).ToArray(),
            EncodeLabels: caption => [.. tokenizer.EncodeToIds(caption), end], SourceFolder: folder.Path);
    }

    // A file that kept a tied tensor under its head name only (a conversion that dropped the other name of a shared
    // tensor) still provides it: the head's copy stands in for the embedding or bias it is tied to.
    private static Dictionary<string, Tensor> WithTiedNames(IReadOnlyDictionary<string, Tensor> tensors)
    {
        var view = new Dictionary<string, Tensor>(tensors, StringComparer.Ordinal);
        foreach (var (canonical, tied) in new[] { ("text_decoder.bert.embeddings.word_embeddings.weight", TiedWeight), ("text_decoder.cls.predictions.bias", TiedBias) })
            if (!view.ContainsKey(canonical) && view.TryGetValue(tied, out var tensor)) view[canonical] = tensor;
        return view;
    }

    /// <summary>OpenAI CLIP's channel means and deviations, BlipImageProcessor's defaults.</summary>
    internal static readonly float[] ClipMean = [0.48145466f, 0.4578275f, 0.40821073f], ClipStd = [0.26862954f, 0.26130258f, 0.27577711f];
}
