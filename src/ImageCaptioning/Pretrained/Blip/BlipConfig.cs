namespace ImageCaptioning.Pretrained.Blip;

/// <summary>
/// BLIP's vision transformer (config.json's <c>vision_config</c>), with Hugging Face's <c>BlipVisionConfig</c>
/// defaults for keys the file omits.
/// </summary>
internal sealed record BlipVisionConfig(int HiddenSize, int IntermediateSize, int Layers, int Heads, int ImageSize, int PatchSize,
    double LayerNormEps, Func<Tensor, Tensor> Activation)
{
    /// <summary>Patches per image plus the class embedding.</summary>
    public int Positions => ((ImageSize / PatchSize) * (ImageSize / PatchSize)) + 1;

    public static BlipVisionConfig Read(HubJson c)
    {
        var config = new BlipVisionConfig(
            c.IntAtLeast("hidden_size", 1, 768), c.IntAtLeast("intermediate_size", 1, 3072), c.IntAtLeast("num_hidden_layers", 1, 12),
            c.IntAtLeast("num_attention_heads", 1, 12), c.IntAtLeast("image_size", 1, 384), c.IntAtLeast("patch_size", 1, 16),
            BlipConfig.Epsilon(c, 1e-5), HubActivation.Read(c, "hidden_act", "gelu"));
        if (config.HiddenSize % config.Heads != 0)
            throw c.Invalid("num_attention_heads", $"is {config.Heads}, which does not divide hidden_size {config.HiddenSize}");
        if (config.ImageSize % config.PatchSize != 0)
            throw c.Invalid("patch_size", $"is {config.PatchSize}, which does not divide image_size {config.ImageSize}");
        return config;
    }
}

/// <summary>
/// BLIP's text decoder (config.json's <c>text_config</c>), with Hugging Face's <c>BlipTextConfig</c> defaults for
/// keys the file omits. <see cref="BosTokenId"/> is <c>[DEC]</c>, the decoder's start; <see cref="SepTokenId"/> is
/// <c>[SEP]</c>, which ends a caption (BLIP's <c>eos_token_id</c> is not used for that). <see cref="LabelSmoothing"/> is
/// the training loss's (<c>label_smoothing</c>, 0.0 when absent, as <c>BlipTextConfig</c> since transformers 4.38;
/// earlier versions hard-coded 0.1).
/// </summary>
internal sealed record BlipTextConfig(int VocabSize, int HiddenSize, int EncoderHiddenSize, int IntermediateSize, int Layers, int Heads,
    int MaxPositions, double LayerNormEps, Func<Tensor, Tensor> Activation, int BosTokenId, int SepTokenId, int PadTokenId, double LabelSmoothing)
{
    public static BlipTextConfig Read(HubJson c)
    {
        var config = new BlipTextConfig(
            c.IntAtLeast("vocab_size", 1, 30524), c.IntAtLeast("hidden_size", 1, 768), c.IntAtLeast("encoder_hidden_size", 1, 768),
            c.IntAtLeast("intermediate_size", 1, 3072), c.IntAtLeast("num_hidden_layers", 1, 12), c.IntAtLeast("num_attention_heads", 1, 8),
            c.IntAtLeast("max_position_embeddings", 1, 512), BlipConfig.Epsilon(c, 1e-12), HubActivation.Read(c, "hidden_act", "gelu"),
            c.IntAtLeast("bos_token_id", 0, 30522), c.IntAtLeast("sep_token_id", 0, 102), c.IntAtLeast("pad_token_id", 0, 0),
            c.Double("label_smoothing", 0.0));
        if (!(config.LabelSmoothing >= 0 && config.LabelSmoothing <= 1))
            throw c.Invalid("label_smoothing", $"is {config.LabelSmoothing}; it must be within 0 and 1");
        if (config.HiddenSize % config.Heads != 0)
            throw c.Invalid("num_attention_heads", $"is {config.Heads}, which does not divide hidden_size {config.HiddenSize}");
        // The prediction head is the word embeddings' transpose; an untied head would need weights of its own.
        if (!c.Bool("tie_word_embeddings", true)) throw c.Invalid("tie_word_embeddings", "is false; BLIP's decoder head is tied to its word embeddings");
        foreach (var (key, id) in new[] { ("bos_token_id", config.BosTokenId), ("sep_token_id", config.SepTokenId), ("pad_token_id", config.PadTokenId) })
            if (id >= config.VocabSize) throw c.Invalid(key, $"is {id}, outside the decoder's vocab_size {config.VocabSize}");
        return config;
    }
}

/// <summary>The parts of a BLIP captioning checkpoint's config.json that the library reads.</summary>
internal sealed record BlipConfig(BlipVisionConfig Vision, BlipTextConfig Text)
{
    /// <summary>Reads <c>vision_config</c> and <c>text_config</c>, which must be present (their keys default as Hugging Face's).</summary>
    /// <exception cref="InvalidDataException">A key is missing, malformed, out of range or unsupported; the message names the file and the key.</exception>
    public static BlipConfig Read(HubJson config)
    {
        var vision = BlipVisionConfig.Read(config.Section("vision_config"));
        var textSection = config.Section("text_config");
        var text = BlipTextConfig.Read(textSection);
        if (text.EncoderHiddenSize != vision.HiddenSize)
            throw textSection.Invalid("encoder_hidden_size", $"is {text.EncoderHiddenSize} but the vision model's hidden_size is {vision.HiddenSize}");
        return new BlipConfig(vision, text);
    }

    // Generation settings that would change which tokens are chosen and that the shared generator does not implement
    // are refused, so that a checkpoint never decodes differently from Hugging Face without saying so.
    public static void RefuseUnsupportedGeneration(HubJson? source)
    {
        if (source is null) return;
        if (source.Int("min_length", 0) > 0) throw source.Invalid("min_length", "is more than 0; a minimum length is not supported");
        if (source.Double("repetition_penalty", 1.0) != 1.0) throw source.Invalid("repetition_penalty", "is not 1.0; a repetition penalty is not supported");
        if (source.Int("no_repeat_ngram_size", 0) != 0) throw source.Invalid("no_repeat_ngram_size", "is not 0; n-gram blocking is not supported");
        if (source.Bool("do_sample", false)) throw source.Invalid("do_sample", "is true; only greedy and beam search are supported");
        if (source.Int("num_beam_groups", 1) != 1) throw source.Invalid("num_beam_groups", "is not 1; diverse beam search is not supported");
        if (source.Int("encoder_no_repeat_ngram_size", 0) != 0) throw source.Invalid("encoder_no_repeat_ngram_size", "is not 0; n-gram blocking is not supported");
        foreach (var key in new[] { "forced_bos_token_id", "forced_eos_token_id", "bad_words_ids", "suppress_tokens", "begin_suppress_tokens" })
            if (source.Value(key) is not null) throw source.Invalid(key, "is set; forcing or suppressing tokens is not supported");
    }

    public static double Epsilon(HubJson c, double fallback)
    {
        var eps = c.Double("layer_norm_eps", fallback);
        return eps > 0 ? eps : throw c.Invalid("layer_norm_eps", $"is {eps}; it must be positive");
    }
}
