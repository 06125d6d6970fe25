using ImageCaptioning.Torch.Runtime;
namespace ImageCaptioning.Pretrained.VitGpt2;

/// <summary>The ViT settings of config.json's <c>encoder</c> that the computation depends on.</summary>
internal sealed record VitConfig(int HiddenSize, int Layers, int Heads, int IntermediateSize, double LayerNormEps, int ImageSize, int PatchSize,
    int Channels, bool QkvBias, Func<Tensor, Tensor> Activation)
{
    /// <summary>Reads and checks the encoder's sub-config.</summary>
    public static VitConfig Read(HubJson encoder)
    {
        var modelType = encoder.String("model_type");
        if (modelType is not null && modelType != "vit")
            throw encoder.Invalid("model_type", $"is '{modelType}'; a VisionEncoderDecoderModel is loaded with a ViT encoder ('vit') only");
        var hidden = encoder.IntAtLeast("hidden_size", 1, 768);
        var heads = encoder.IntAtLeast("num_attention_heads", 1, 12);
        if (hidden % heads != 0) throw encoder.Invalid("num_attention_heads", $"is {heads}, which does not divide hidden_size {hidden}");
        var image = encoder.IntAtLeast("image_size", 1, 224);
        var patch = encoder.IntAtLeast("patch_size", 1, 16);
        if (image % patch != 0) throw encoder.Invalid("patch_size", $"is {patch}, which does not divide image_size {image}");
        return new VitConfig(hidden, encoder.IntAtLeast("num_hidden_layers", 1, 12), heads, encoder.IntAtLeast("intermediate_size", 1, 3072),
            encoder.Double("layer_norm_eps", 1e-12), image, patch, encoder.IntAtLeast("num_channels", 1, 3), encoder.Bool("qkv_bias", true),
            HubActivation.Read(encoder, "hidden_act", "gelu"));
    }

    /// <summary>Patches per image plus the CLS token.</summary>
    public int Positions => ((ImageSize / PatchSize) * (ImageSize / PatchSize)) + 1;
}

/// <summary>
/// transformers' <c>ViTModel</c> without its pooler: CLS token and patch embeddings plus position embeddings, then
/// pre-LN layers (self-attention and an MLP, each after a layer norm and added back), then a final layer norm.
/// State-dict keys are the checkpoint's: <c>embeddings.*</c>, <c>encoder.layer.{i}.*</c>, <c>layernorm.*</c>.
/// </summary>
internal sealed class VitEncoder : nn.Module
{
    private readonly VitConfig config;
    private readonly Parameter cls, positions;
    private readonly Conv2d projection;
    private readonly VitLayer[] layers;
    private readonly LayerNorm norm;

    public VitEncoder(VitConfig config) : base(nameof(VitEncoder))
    {
        TorchRuntime.EnsureLoaded();
        this.config = config;
        cls = new Parameter(torch.zeros(1, 1, config.HiddenSize));
        positions = new Parameter(torch.zeros(1, config.Positions, config.HiddenSize));
        projection = nn.Conv2d(config.Channels, config.HiddenSize, config.PatchSize, stride: config.PatchSize);
        var embeddings = new ModuleGroup().With("patch_embeddings", new ModuleGroup().With("projection", projection));
        embeddings.register_parameter("cls_token", cls);
        embeddings.register_parameter("position_embeddings", positions);
        this.Register("embeddings", embeddings);
        layers = [.. Enumerable.Range(0, config.Layers).Select(_ => new VitLayer(config))];
        this.Register("encoder", new ModuleGroup().With("layer", nn.ModuleList(layers)));
        norm = this.Register("layernorm", nn.LayerNorm(config.HiddenSize, config.LayerNormEps));
    }

    protected override void RegisterComponents()
    {
    }

    /// <summary>The number of transformer layers.</summary>
    public int Layers => layers.Length;

    /// <summary>The last hidden state [B, patches + 1, hidden] of <paramref name="pixelValues"/> [B, C, image, image].</summary>
    public Tensor forward(Tensor pixelValues)
    {
        if (pixelValues.dim() != 4 || pixelValues.size(1) != config.Channels || pixelValues.size(2) != config.ImageSize || pixelValues.size(3) != config.ImageSize)
            throw new ArgumentException($"pixel values must be [B, {config.Channels}, {config.ImageSize}, {config.ImageSize}], not [{string.Join(", ", pixelValues.shape)}]", nameof(pixelValues));
        using var scope = torch.NewDisposeScope();
        var patches = projection.forward(pixelValues).flatten(2).transpose(1, 2);
        var hidden = torch.cat([cls.expand(pixelValues.size(0), -1, -1), patches], 1).add(positions);
        foreach (var layer in layers) hidden = layer.forward(hidden);
        return norm.forward(hidden).MoveToOuterDisposeScope();
    }
}

/// <summary>One ViT layer: <c>x + attention(layernorm_before(x))</c>, then <c>x + output(act(intermediate(layernorm_after(x))))</c>.</summary>
internal sealed class VitLayer : nn.Module
{
    private readonly Linear query, key, value, attentionOutput, intermediate, output;
    private readonly LayerNorm before, after;
    private readonly VitConfig config;

    public VitLayer(VitConfig config) : base(nameof(VitLayer))
    {
        this.config = config;
        var size = config.HiddenSize;
        query = nn.Linear(size, size, config.QkvBias);
        key = nn.Linear(size, size, config.QkvBias);
        value = nn.Linear(size, size, config.QkvBias);
        attentionOutput = nn.Linear(size, size);
        intermediate = nn.Linear(size, config.IntermediateSize);
        output = nn.Linear(config.IntermediateSize, size);
        this.Register("attention", new ModuleGroup()
            .With("attention", new ModuleGroup().With("query", query).With("key", key).With("value", value))
            .With("output", new ModuleGroup().With("dense", attentionOutput)));
        this.Register("intermediate", new ModuleGroup().With("dense", intermediate));
        this.Register("output", new ModuleGroup().With("dense", output));
        before = this.Register("layernorm_before", nn.LayerNorm(size, config.LayerNormEps));
        after = this.Register("layernorm_after", nn.LayerNorm(size, config.LayerNormEps));
    }

    protected override void RegisterComponents()
    {
    }

    public Tensor forward(Tensor hidden)
    {
        using var scope = torch.NewDisposeScope();
        var normed = before.forward(hidden);
        var attended = Attention.Attend(Attention.SplitHeads(query.forward(normed), config.Heads), Attention.SplitHeads(key.forward(normed), config.Heads),
            Attention.SplitHeads(value.forward(normed), config.Heads), causal: false);
        hidden = hidden.add(attentionOutput.forward(Attention.MergeHeads(attended)));
        var mlp = output.forward(config.Activation(intermediate.forward(after.forward(hidden))));
        return hidden.add(mlp).MoveToOuterDisposeScope();
    }
}

/// <summary>Scaled dot-product attention over heads, as the ViT and GPT-2 layers share it.</summary>
internal static class Attention
{
    /// <summary>[B, L, H·d] → [B, H, L, d].</summary>
    public static Tensor SplitHeads(Tensor x, int heads) => x.view(x.size(0), x.size(1), heads, x.size(2) / heads).transpose(1, 2);

    /// <summary>[B, H, L, d] → [B, L, H·d].</summary>
    public static Tensor MergeHeads(Tensor x) => x.transpose(1, 2).reshape(x.size(0), x.size(2), x.size(1) * x.size(3));

    /// <summary>softmax(q kᵀ / sqrt(d)) v, with a causal mask aligned at the end when <paramref name="causal"/> (queries are the last positions).</summary>
    public static Tensor Attend(Tensor queries, Tensor keys, Tensor values, bool causal)
    {
        var length = queries.size(2);
        var total = keys.size(2);
        if (!causal || length == 1) return F.scaled_dot_product_attention(queries, keys, values);
        if (length == total) return F.scaled_dot_product_attention(queries, keys, values, null, 0.0, true);
        // New queries after cached ones: query i sits at position total - length + i and sees the keys up to it.
        using var mask = torch.ones(length, total, ScalarType.Bool, queries.device).tril(total - length);
        return F.scaled_dot_product_attention(queries, keys, values, mask);
    }
}
