namespace ImageCaptioning.Pretrained.VitGpt2;

/// <summary>The GPT-2 settings of config.json's <c>decoder</c> that the computation depends on.</summary>
internal sealed record Gpt2Config(int VocabularySize, int Positions, int Embedding, int Layers, int Heads, int Inner, double LayerNormEps,
    Func<Tensor, Tensor> Activation, bool ScaleWeights, bool ScaleByInverseLayer, bool TieWordEmbeddings)
{
    /// <summary>Reads and checks the decoder's sub-config.</summary>
    public static Gpt2Config Read(HubJson decoder)
    {
        var modelType = decoder.String("model_type");
        if (modelType is not null && modelType != "gpt2")
            throw decoder.Invalid("model_type", $"is '{modelType}'; a VisionEncoderDecoderModel is loaded with a GPT-2 decoder ('gpt2') only");
        if (!decoder.Bool("add_cross_attention", false))
            throw decoder.Invalid("add_cross_attention", "must be true: the GPT-2 decoder of an image captioner attends to the image");
        var embedding = decoder.IntAtLeast("n_embd", 1, 768);
        var heads = decoder.IntAtLeast("n_head", 1, 12);
        if (embedding % heads != 0) throw decoder.Invalid("n_head", $"is {heads}, which does not divide n_embd {embedding}");
        if (decoder.OptionalInt("cross_attention_hidden_size") is { } cross && cross != embedding)
            throw decoder.Invalid("cross_attention_hidden_size", $"is {cross}; GPT-2's cross-attention reads n_embd ({embedding}) features");
        return new Gpt2Config(decoder.IntAtLeast("vocab_size", 1, 50257), decoder.IntAtLeast("n_positions", 1, 1024), embedding,
            decoder.IntAtLeast("n_layer", 1, 12), heads, decoder.OptionalInt("n_inner") is { } inner ? decoder.IntAtLeast("n_inner", 1) : 4 * embedding,
            decoder.Double("layer_norm_epsilon", 1e-5), HubActivation.Read(decoder, "activation_function", "gelu_new"),
            decoder.Bool("scale_attn_weights", true), decoder.Bool("scale_attn_by_inverse_layer_idx", false), decoder.Bool("tie_word_embeddings", true));
    }
}

/// <summary>
/// transformers' <c>GPT2LMHeadModel</c> with cross-attention: token and position embeddings, pre-LN blocks of causal
/// self-attention, cross-attention over the image and an MLP (Conv1D weights stored [in, out]), a final layer norm,
/// and the output layer tied to the token embeddings. State-dict keys are the checkpoint's under <c>decoder.</c>:
/// <c>transformer.wte</c>, <c>transformer.h.{i}.*</c>, <c>lm_head</c> (only when not tied).
/// </summary>
internal sealed class Gpt2Decoder : nn.Module
{
    private readonly Embedding wte, wpe;
    private readonly Gpt2Block[] blocks;
    private readonly LayerNorm finalNorm;
    private readonly Linear? head;

    public Gpt2Decoder(Gpt2Config config) : base(nameof(Gpt2Decoder))
    {
        Config = config;
        wte = nn.Embedding(config.VocabularySize, config.Embedding);
        wpe = nn.Embedding(config.Positions, config.Embedding);
        blocks = [.. Enumerable.Range(0, config.Layers).Select(i => new Gpt2Block(config, i))];
        finalNorm = nn.LayerNorm(config.Embedding, config.LayerNormEps);
        this.Register("transformer", new ModuleGroup().With("wte", wte).With("wpe", wpe).With("h", nn.ModuleList(blocks)).With("ln_f", finalNorm));
        if (!config.TieWordEmbeddings) head = this.Register("lm_head", nn.Linear(config.Embedding, config.VocabularySize, hasBias: false));
    }

    public Gpt2Config Config { get; }

    public IReadOnlyList<Gpt2Block> Blocks => blocks;

    protected override void RegisterComponents()
    {
    }

    /// <summary>
    /// Runs <paramref name="tokens"/> [rows, k] at positions <paramref name="past"/>.. through the blocks, each block's
    /// cache extended, and returns the logits [rows, k, V] (or [rows, V] at the last token when <paramref name="lastOnly"/>).
    /// </summary>
    public Tensor Forward(Tensor tokens, long past, Gpt2Cache cache, bool lastOnly)
    {
        using var scope = torch.NewDisposeScope();
        var length = tokens.size(1);
        if (past + length > Config.Positions)
            throw new ArgumentException($"position {past + length - 1} is past the decoder's {Config.Positions} positions (n_positions)");
        var positionIds = torch.arange(past, past + length, ScalarType.Int64, tokens.device);
        var hidden = wte.forward(tokens).add(wpe.forward(positionIds));
        for (var i = 0; i < blocks.Length; i++) hidden = blocks[i].Forward(hidden, cache, i);
        hidden = finalNorm.forward(hidden);
        if (lastOnly) hidden = hidden.select(1, length - 1);
        return F.linear(hidden, head?.weight ?? wte.weight!).MoveToOuterDisposeScope();
    }
}

/// <summary>One GPT-2 block with cross-attention.</summary>
internal sealed class Gpt2Block : nn.Module
{
    private readonly Gpt2Config config;
    private readonly int layer;
    private readonly LayerNorm ln1, lnCross, ln2;
    private readonly Conv1D selfQkv, selfProjection, crossQuery, crossKeyValue, crossProjection, fc, mlpProjection;

    public Gpt2Block(Gpt2Config config, int layer) : base(nameof(Gpt2Block))
    {
        (this.config, this.layer) = (config, layer);
        var n = config.Embedding;
        ln1 = this.Register("ln_1", nn.LayerNorm(n, config.LayerNormEps));
        selfQkv = new Conv1D(n, 3 * n);
        selfProjection = new Conv1D(n, n);
        this.Register("attn", new ModuleGroup().With("c_attn", selfQkv).With("c_proj", selfProjection));
        lnCross = this.Register("ln_cross_attn", nn.LayerNorm(n, config.LayerNormEps));
        crossKeyValue = new Conv1D(n, 2 * n);
        crossQuery = new Conv1D(n, n);
        crossProjection = new Conv1D(n, n);
        this.Register("crossattention", new ModuleGroup().With("c_attn", crossKeyValue).With("q_attn", crossQuery).With("c_proj", crossProjection));
        ln2 = this.Register("ln_2", nn.LayerNorm(n, config.LayerNormEps));
        fc = new Conv1D(n, config.Inner);
        mlpProjection = new Conv1D(config.Inner, n);
        this.Register("mlp", new ModuleGroup().With("c_fc", fc).With("c_proj", mlpProjection));
    }

    protected override void RegisterComponents()
    {
    }

    /// <summary>The cross-attention keys and values of the (projected) image features [B, P, n]: each [B, H, P, d].</summary>
    public (Tensor Keys, Tensor Values) CrossKeysAndValues(Tensor encoderHidden)
    {
        using var scope = torch.NewDisposeScope();
        var projected = crossKeyValue.forward(encoderHidden);
        var keys = Attention.SplitHeads(projected.narrow(2, 0, config.Embedding), config.Heads).contiguous();
        var values = Attention.SplitHeads(projected.narrow(2, config.Embedding, config.Embedding), config.Heads).contiguous();
        return (keys.MoveToOuterDisposeScope(), values.MoveToOuterDisposeScope());
    }

    public Tensor Forward(Tensor hidden, Gpt2Cache cache, int index)
    {
        using var scope = torch.NewDisposeScope();
        var n = config.Embedding;
        var qkv = selfQkv.forward(ln1.forward(hidden));
        var queries = Scaled(Attention.SplitHeads(qkv.narrow(2, 0, n), config.Heads));
        var (keys, values) = cache.Append(index, Attention.SplitHeads(qkv.narrow(2, n, n), config.Heads), Attention.SplitHeads(qkv.narrow(2, 2 * n, n), config.Heads));
        hidden = hidden.add(selfProjection.forward(Attention.MergeHeads(Attention.Attend(queries, keys, values, causal: true))));

        var crossQueries = Scaled(Attention.SplitHeads(crossQuery.forward(lnCross.forward(hidden)), config.Heads));
        var (crossKeys, crossValues) = cache.Cross(index);
        hidden = hidden.add(crossProjection.forward(Attention.MergeHeads(Attention.Attend(crossQueries, crossKeys, crossValues, causal: false))));

        hidden = hidden.add(mlpProjection.forward(config.Activation(fc.forward(ln2.forward(hidden)))));
        return hidden.MoveToOuterDisposeScope();
    }

    // Attention divides the scores by sqrt(d); GPT-2's options to skip that, or to divide by the layer's number too,
    // are folded into the queries.
    private Tensor Scaled(Tensor queries)
    {
        var factor = (config.ScaleWeights ? 1.0 : Math.Sqrt(config.Embedding / config.Heads)) / (config.ScaleByInverseLayer ? layer + 1 : 1);
        return factor == 1.0 ? queries : queries.mul(factor);
    }
}

/// <summary>
/// The decoder's cache for a batch of rows: per block the self-attention keys and values so far, and the
/// cross-attention keys and values of the image, computed once and shared by an image's beams (a beam step reorders
/// rows only within an image, so they never move).
/// </summary>
internal sealed class Gpt2Cache : IDisposable
{
    private readonly Tensor?[] keys, values;
    private readonly Tensor[] crossKeys, crossValues;

    public Gpt2Cache(Tensor[] crossKeys, Tensor[] crossValues)
    {
        (this.crossKeys, this.crossValues) = (crossKeys, crossValues);
        keys = new Tensor?[crossKeys.Length];
        values = new Tensor?[crossKeys.Length];
        foreach (var t in crossKeys.Concat(crossValues)) t.DetachFromDisposeScope();
    }

    /// <summary>Positions already cached.</summary>
    public long Length => keys[0]?.size(2) ?? 0;

    public (Tensor Keys, Tensor Values) Cross(int layer) => (crossKeys[layer], crossValues[layer]);

    /// <summary>Appends a step's keys and values of <paramref name="layer"/> and returns all of them (owned by the cache).</summary>
    public (Tensor Keys, Tensor Values) Append(int layer, Tensor newKeys, Tensor newValues)
    {
        keys[layer] = Extend(keys[layer], newKeys);
        values[layer] = Extend(values[layer], newValues);
        return (keys[layer]!, values[layer]!);
    }

    public void Reorder(Tensor rows)
    {
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = Replace(keys[i], k => k.index_select(0, rows));
            values[i] = Replace(values[i], v => v.index_select(0, rows));
        }
    }

    public void Dispose()
    {
        foreach (var t in keys.Concat(values).Concat(crossKeys).Concat(crossValues)) t?.Dispose();
    }

    private static Tensor Extend(Tensor? old, Tensor added)
    {
        var result = (old is null ? added.contiguous() : torch.cat([old, added], 2)).DetachFromDisposeScope();
        old?.Dispose();
        return result;
    }

    private static Tensor? Replace(Tensor? old, Func<Tensor, Tensor> change)
    {
        if (old is null) return null;
        var result = change(old).DetachFromDisposeScope();
        old.Dispose();
        return result;
    }
}
