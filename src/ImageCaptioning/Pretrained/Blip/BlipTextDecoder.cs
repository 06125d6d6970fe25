namespace ImageCaptioning.Pretrained.Blip;

/// <summary>
/// BLIP's text decoder (Hugging Face <c>BlipTextLMHeadModel</c>, state_dict under <c>text_decoder.</c>): BERT embeddings
/// (word + absolute position, LayerNorm, no token types), post-LN layers with causal self-attention and
/// cross-attention to the image, and the <c>cls.predictions</c> head (dense, activation, LayerNorm, then the word
/// embeddings' transpose as the tied decoder, plus <c>cls.predictions.bias</c>).
/// </summary>
internal sealed class BlipTextDecoder : torch.nn.Module
{
    private readonly BlipTextConfig config;
    private readonly Embedding wordEmbeddings, positionEmbeddings;
    private readonly LayerNorm embeddingNorm, transformNorm;
    private readonly BlipTextLayer[] layers;
    private readonly Linear transformDense;
    private readonly Parameter bias;

    public BlipTextDecoder(BlipTextConfig config) : base(nameof(BlipTextDecoder))
    {
        this.config = config;
        var d = config.HiddenSize;
        wordEmbeddings = torch.nn.Embedding(config.VocabSize, d, padding_idx: config.PadTokenId);
        positionEmbeddings = torch.nn.Embedding(config.MaxPositions, d);
        embeddingNorm = torch.nn.LayerNorm(d, config.LayerNormEps);
        layers = [.. Enumerable.Range(0, config.Layers).Select(_ => new BlipTextLayer(config))];
        var embeddings = new ModuleGroup().With("word_embeddings", wordEmbeddings).With("position_embeddings", positionEmbeddings).With("LayerNorm", embeddingNorm);
        this.Register("bert", new ModuleGroup().With("embeddings", embeddings).With("encoder", new ModuleGroup().With("layer", torch.nn.ModuleList(layers))));
        transformDense = torch.nn.Linear(d, d);
        transformNorm = torch.nn.LayerNorm(d, config.LayerNormEps);
        bias = new Parameter(torch.zeros(config.VocabSize));
        var predictions = new ModuleGroup().With("transform", new ModuleGroup().With("dense", transformDense).With("LayerNorm", transformNorm));
        predictions.register_parameter("bias", bias);
        this.Register("cls", new ModuleGroup().With("predictions", predictions));
    }

    protected override void RegisterComponents()
    {
    }

    /// <summary>The configuration.</summary>
    public BlipTextConfig Config => config;

    /// <summary>Every layer's cross-attention keys and values of <paramref name="imageEmbeds"/> [B, P, E].</summary>
    public BlipImageKeysValues ImageKeysValues(Tensor imageEmbeds)
    {
        // Owned by the returned object, not by any dispose scope: they live for the whole decoding.
        using var scope = torch.NewDisposeScope();
        var pairs = layers.Select(layer => layer.ImageKeysValues(imageEmbeds)).ToArray();
        foreach (var (k, v) in pairs)
        {
            k.DetachFromDisposeScope();
            v.DetachFromDisposeScope();
        }
        return new BlipImageKeysValues(pairs);
    }

    /// <summary>
    /// The logits [B, T, V] of <paramref name="inputIds"/> [B, T] (int64). <paramref name="attentionMask"/> [B, T + past]
    /// marks the real tokens with 1 (null: all real). With <paramref name="cache"/>, the earlier positions' keys and
    /// values come from it and these positions' are appended to it.
    /// </summary>
    public Tensor forward(Tensor inputIds, BlipImageKeysValues image, Tensor? attentionMask = null, BlipKeyValueCache? cache = null)
    {
        using var scope = torch.NewDisposeScope();
        var (batch, length) = (inputIds.size(0), inputIds.size(1));
        var past = cache?.Length ?? 0;
        if (past + length > config.MaxPositions)
            throw new ArgumentException($"{past + length} positions exceed the decoder's max_position_embeddings ({config.MaxPositions})", nameof(inputIds));
        var positions = torch.arange(past, past + length, dtype: ScalarType.Int64, device: inputIds.device).unsqueeze(0);
        var x = embeddingNorm.forward(wordEmbeddings.forward(inputIds) + positionEmbeddings.forward(positions));
        var mask = Mask(batch, length, past, attentionMask, inputIds.device);
        for (var i = 0; i < layers.Length; i++)
        {
            var (output, keys, values) = layers[i].forward(x, mask, cache?.Keys[i], cache?.Values[i], image.Keys[i], image.Values[i]);
            x = output;
            cache?.Set(i, keys, values);
        }
        if (cache is not null) cache.Length = past + length;
        var hidden = transformNorm.forward(config.Activation(transformDense.forward(x)));
        return F.linear(hidden, wordEmbeddings.weight!, bias).MoveToOuterDisposeScope();
    }

    // Hugging Face's get_extended_attention_mask for a decoder: causal (with the cached prefix visible) times the
    // padding mask, then (1 - mask) * -10000. One new position with no padding sees every key: no mask at all.
    private static Tensor? Mask(long batch, long length, long past, Tensor? attentionMask, Device device)
    {
        if (attentionMask is null && length == 1) return null;
        var ids = torch.arange(length, device: device);
        var causal = ids.unsqueeze(0).le(ids.unsqueeze(1)).to(ScalarType.Float32);
        if (past > 0) causal = torch.cat([torch.ones(length, past, device: device), causal], 1);
        var mask = causal.unsqueeze(0).unsqueeze(0).expand(batch, 1, length, past + length);
        if (attentionMask is not null) mask = mask * attentionMask.to(ScalarType.Float32).unsqueeze(1).unsqueeze(1);
        return mask.neg().add(1.0).mul(-10000.0);
    }
}

/// <summary>Every decoder layer's cross-attention keys and values for a batch of images, [B, H, P, D/H] each.</summary>
internal sealed class BlipImageKeysValues(IReadOnlyList<(Tensor Keys, Tensor Values)> pairs) : IDisposable
{
    public Tensor[] Keys { get; private set; } = [.. pairs.Select(p => p.Keys)];

    public Tensor[] Values { get; private set; } = [.. pairs.Select(p => p.Values)];

    /// <summary>Keeps the rows at <paramref name="indices"/> (beam expansion).</summary>
    public void Select(Tensor indices)
    {
        for (var i = 0; i < Keys.Length; i++)
        {
            (var k, var v) = (Keys[i], Values[i]);
            Keys[i] = k.index_select(0, indices).DetachFromDisposeScope();
            Values[i] = v.index_select(0, indices).DetachFromDisposeScope();
            k.Dispose();
            v.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var t in Keys.Concat(Values)) t.Dispose();
    }
}

/// <summary>The self-attention keys and values of the positions decoded so far, per layer.</summary>
internal sealed class BlipKeyValueCache(int layers) : IDisposable
{
    public Tensor?[] Keys { get; } = new Tensor?[layers];

    public Tensor?[] Values { get; } = new Tensor?[layers];

    /// <summary>Positions cached.</summary>
    public long Length { get; set; }

    public void Set(int layer, Tensor keys, Tensor values)
    {
        Keys[layer]?.Dispose();
        Values[layer]?.Dispose();
        Keys[layer] = keys.DetachFromDisposeScope();
        Values[layer] = values.DetachFromDisposeScope();
    }

    /// <summary>Keeps the rows at <paramref name="indices"/>, in that order (beam reordering).</summary>
    public void Select(Tensor indices)
    {
        for (var i = 0; i < Keys.Length; i++)
        {
            if (Keys[i] is not { } k || Values[i] is not { } v) continue;
            Keys[i] = k.index_select(0, indices).DetachFromDisposeScope();
            Values[i] = v.index_select(0, indices).DetachFromDisposeScope();
            k.Dispose();
            v.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var t in Keys.Concat(Values)) t?.Dispose();
    }
}
