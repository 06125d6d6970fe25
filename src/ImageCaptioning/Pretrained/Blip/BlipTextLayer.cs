namespace ImageCaptioning.Pretrained.Blip;

/// <summary>
/// One post-LN layer of BLIP's text decoder (Hugging Face <c>BlipTextLayer</c> with <c>is_decoder</c>):
/// x = LN(x + dense(SelfAttention(x))); x = LN(x + dense(CrossAttention(x, image))); x = LN(x + dense(act(dense(x)))).
/// Scores are divided by sqrt(head size) and the causal mask is Hugging Face's additive -10000.
/// </summary>
internal sealed class BlipTextLayer : torch.nn.Module
{
    private readonly Linear query, key, value, selfDense, crossQuery, crossKey, crossValue, crossDense, intermediate, outputDense;
    private readonly LayerNorm selfNorm, crossNorm, outputNorm;
    private readonly int heads, headSize;
    private readonly Func<Tensor, Tensor> activation;

    public BlipTextLayer(BlipTextConfig config) : base(nameof(BlipTextLayer))
    {
        var d = config.HiddenSize;
        (heads, headSize, activation) = (config.Heads, d / config.Heads, config.Activation);
        (query, key, value, selfDense, selfNorm) = Attention(this, "attention", d, d, config.LayerNormEps);
        (crossQuery, crossKey, crossValue, crossDense, crossNorm) = Attention(this, "crossattention", d, config.EncoderHiddenSize, config.LayerNormEps);
        intermediate = torch.nn.Linear(d, config.IntermediateSize);
        this.Register("intermediate", new ModuleGroup().With("dense", intermediate));
        (outputDense, outputNorm) = (torch.nn.Linear(config.IntermediateSize, d), torch.nn.LayerNorm(d, config.LayerNormEps));
        this.Register("output", new ModuleGroup().With("dense", outputDense).With("LayerNorm", outputNorm));
    }

    private static (Linear, Linear, Linear, Linear, LayerNorm) Attention(torch.nn.Module parent, string name, int d, int source, double eps)
    {
        var (query, key, value, dense, norm) = (torch.nn.Linear(d, d), torch.nn.Linear(source, d), torch.nn.Linear(source, d), torch.nn.Linear(d, d), torch.nn.LayerNorm(d, eps));
        parent.Register(name, new ModuleGroup()
            .With("self", new ModuleGroup().With("query", query).With("key", key).With("value", value))
            .With("output", new ModuleGroup().With("dense", dense).With("LayerNorm", norm)));
        return (query, key, value, dense, norm);
    }

    protected override void RegisterComponents()
    {
    }

    /// <summary>The cross-attention keys and values of the image embeddings, [B, H, P, D/H] each: fixed per image, so computed once.</summary>
    public (Tensor Keys, Tensor Values) ImageKeysValues(Tensor imageEmbeds) => (Heads(crossKey.forward(imageEmbeds)), Heads(crossValue.forward(imageEmbeds)));

    /// <summary>
    /// <paramref name="x"/> [B, T, D] after <paramref name="pastKeys"/>/<paramref name="pastValues"/> (null when none);
    /// <paramref name="mask"/> is added to the self-attention scores (null when every key is visible). Returns the
    /// output and the self-attention keys and values grown by these positions.
    /// </summary>
    public (Tensor Output, Tensor Keys, Tensor Values) forward(Tensor x, Tensor? mask, Tensor? pastKeys, Tensor? pastValues, Tensor imageKeys, Tensor imageValues)
    {
        using var scope = torch.NewDisposeScope();
        var keys = Heads(key.forward(x));
        var values = Heads(value.forward(x));
        if (pastKeys is not null && pastValues is not null)
        {
            keys = torch.cat([pastKeys, keys], 2);
            values = torch.cat([pastValues, values], 2);
        }
        x = selfNorm.forward(selfDense.forward(Attend(Heads(query.forward(x)), keys, values, mask)) + x);
        x = crossNorm.forward(crossDense.forward(Attend(Heads(crossQuery.forward(x)), imageKeys, imageValues, null)) + x);
        x = outputNorm.forward(outputDense.forward(activation(intermediate.forward(x))) + x);
        return (x.MoveToOuterDisposeScope(), keys.MoveToOuterDisposeScope(), values.MoveToOuterDisposeScope());
    }

    private Tensor Heads(Tensor x) => x.view(x.size(0), -1, heads, headSize).transpose(1, 2);

    private Tensor Attend(Tensor q, Tensor k, Tensor v, Tensor? mask)
    {
        var scores = torch.matmul(q, k.transpose(-1, -2)).div(Math.Sqrt(headSize));
        if (mask is not null) scores = scores + mask;
        var context = torch.matmul(scores.softmax(-1), v).permute(0, 2, 1, 3).contiguous();
        return context.view(context.size(0), -1, heads * headSize);
    }
}
