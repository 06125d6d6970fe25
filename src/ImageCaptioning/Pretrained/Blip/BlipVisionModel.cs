using ImageCaptioning.Torch.Runtime;
namespace ImageCaptioning.Pretrained.Blip;

/// <summary>
/// BLIP's vision transformer (Hugging Face <c>BlipVisionModel</c>, state_dict under <c>vision_model.</c>): a patch
/// convolution with bias, the class embedding and learned positions, pre-LN encoder layers with a fused <c>qkv</c>
/// projection, and <c>post_layernorm</c> over the whole last hidden state, which is what the text decoder attends to.
/// </summary>
internal sealed class BlipVisionModel : torch.nn.Module
{
    private readonly BlipVisionConfig config;
    private readonly Parameter classEmbedding, positionEmbedding;
    private readonly Conv2d patchEmbedding;
    private readonly BlipVisionLayer[] layers;
    private readonly LayerNorm postLayerNorm;

    public BlipVisionModel(BlipVisionConfig config) : base(nameof(BlipVisionModel))
    {
        TorchRuntime.EnsureLoaded();
        this.config = config;
        var d = config.HiddenSize;
        classEmbedding = new Parameter(torch.zeros(1, 1, d));
        patchEmbedding = torch.nn.Conv2d(3, d, config.PatchSize, stride: config.PatchSize);
        positionEmbedding = new Parameter(torch.zeros(1, config.Positions, d));
        var embeddings = this.Register("embeddings", new ModuleGroup().With("patch_embedding", patchEmbedding));
        embeddings.register_parameter("class_embedding", classEmbedding);
        embeddings.register_parameter("position_embedding", positionEmbedding);
        layers = [.. Enumerable.Range(0, config.Layers).Select(_ => new BlipVisionLayer(config))];
        this.Register("encoder", new ModuleGroup().With("layers", torch.nn.ModuleList(layers)));
        postLayerNorm = this.Register("post_layernorm", torch.nn.LayerNorm(d, config.LayerNormEps));
    }

    protected override void RegisterComponents()
    {
    }

    /// <summary>The image embeddings [B, patches + 1, D] of <paramref name="pixelValues"/> [B, 3, S, S].</summary>
    public Tensor forward(Tensor pixelValues)
    {
        if (pixelValues.dim() != 4 || pixelValues.size(1) != 3 || pixelValues.size(2) != config.ImageSize || pixelValues.size(3) != config.ImageSize)
            throw new ArgumentException($"pixel values must be [batch, 3, {config.ImageSize}, {config.ImageSize}], not [{string.Join(", ", pixelValues.shape)}]", nameof(pixelValues));
        using var scope = torch.NewDisposeScope();
        var batch = pixelValues.size(0);
        var patches = patchEmbedding.forward(pixelValues).flatten(2).transpose(1, 2);
        var x = torch.cat([classEmbedding.expand(batch, 1, -1), patches], 1) + positionEmbedding;
        foreach (var layer in layers) x = layer.forward(x);
        return postLayerNorm.forward(x).MoveToOuterDisposeScope();
    }
}

/// <summary>One pre-LN layer of BLIP's vision encoder: x + projection(attention(layer_norm1(x))), then x + fc2(act(fc1(layer_norm2(x)))).</summary>
internal sealed class BlipVisionLayer : torch.nn.Module
{
    private readonly Linear qkv, projection, fc1, fc2;
    private readonly LayerNorm layerNorm1, layerNorm2;
    private readonly int heads;
    private readonly double scale;
    private readonly Func<Tensor, Tensor> activation;

    public BlipVisionLayer(BlipVisionConfig config) : base(nameof(BlipVisionLayer))
    {
        var d = config.HiddenSize;
        heads = config.Heads;
        scale = Math.Pow(d / heads, -0.5);
        activation = config.Activation;
        (qkv, projection) = (torch.nn.Linear(d, 3 * d), torch.nn.Linear(d, d));
        this.Register("self_attn", new ModuleGroup().With("qkv", qkv).With("projection", projection));
        layerNorm1 = this.Register("layer_norm1", torch.nn.LayerNorm(d, config.LayerNormEps));
        (fc1, fc2) = (torch.nn.Linear(d, config.IntermediateSize), torch.nn.Linear(config.IntermediateSize, d));
        this.Register("mlp", new ModuleGroup().With("fc1", fc1).With("fc2", fc2));
        layerNorm2 = this.Register("layer_norm2", torch.nn.LayerNorm(d, config.LayerNormEps));
    }

    protected override void RegisterComponents()
    {
    }

    public Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var (b, t, d) = (x.size(0), x.size(1), x.size(2));
        var fused = qkv.forward(layerNorm1.forward(x)).reshape(b, t, 3, heads, d / heads).permute(2, 0, 3, 1, 4);
        var (q, k, v) = (fused[0], fused[1], fused[2]);
        var probabilities = torch.matmul(q, k.transpose(-1, -2)).mul(scale).softmax(-1);
        var context = torch.matmul(probabilities, v).permute(0, 2, 1, 3).reshape(b, t, d);
        x = x + projection.forward(context);
        x = x + fc2.forward(activation(fc1.forward(layerNorm2.forward(x))));
        return x.MoveToOuterDisposeScope();
    }
}
