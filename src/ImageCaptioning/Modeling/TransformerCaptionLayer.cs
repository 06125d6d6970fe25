namespace ImageCaptioning.Modeling;

/// <summary>
/// One post-norm decoder layer with the state_dict names of <c>torch.nn.TransformerDecoderLayer</c> (norm_first
/// false): self_attn, multihead_attn, linear1, linear2, norm1, norm2, norm3.
/// x = norm1(x + SelfAttention(x)); x = norm2(x + CrossAttention(x, grid)); x = norm3(x + linear2(act(linear1(x)))).
/// </summary>
internal sealed class TransformerCaptionLayer : torch.nn.Module
{
    private readonly TransformerAttention selfAttn, multiheadAttn;
    private readonly Linear linear1, linear2;
    private readonly LayerNorm norm1, norm2, norm3;
    private readonly TransformerActivation activation;
    private readonly double dropout;

    public TransformerCaptionLayer(TransformerCaptionOptions options) : base(nameof(TransformerCaptionLayer))
    {
        var d = options.ModelDimension;
        (activation, dropout) = (options.Activation, options.Dropout);
        selfAttn = this.Register("self_attn", new TransformerAttention(d, options.Heads, options.Dropout));
        multiheadAttn = this.Register("multihead_attn", new TransformerAttention(d, options.Heads, options.Dropout));
        linear1 = this.Register("linear1", torch.nn.Linear(d, options.FeedForwardSize));
        linear2 = this.Register("linear2", torch.nn.Linear(options.FeedForwardSize, d));
        norm1 = this.Register("norm1", torch.nn.LayerNorm(d));
        norm2 = this.Register("norm2", torch.nn.LayerNorm(d));
        norm3 = this.Register("norm3", torch.nn.LayerNorm(d));
    }

    // The PyTorch names are registered above; TorchSharp would add the fields under their C# names too.
    protected override void RegisterComponents()
    {
    }

    /// <summary>The grid's keys and values for the cross-attention, [B, H, P, D/H] each: fixed for a caption, so computed once.</summary>
    public (Tensor Keys, Tensor Values) GridKeysAndValues(Tensor grid) => multiheadAttn.KeysAndValues(grid);

    /// <summary>
    /// Teacher forcing over <paramref name="input"/> [B, T, D] with causal self-attention; returns [B, T, D].
    /// </summary>
    public Tensor forward(Tensor input, Tensor gridKeys, Tensor gridValues)
    {
        using var scope = torch.NewDisposeScope();
        var (queries, keys, values) = selfAttn.SelfProjections(input);
        return Block(input, queries, keys, values, causal: true, gridKeys, gridValues).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The newest position only, <paramref name="input"/> [B, 1, D], against the cached self-attention keys and
    /// values of the earlier positions [B, H, t, D/H]: returns its output and the caches grown by this position.
    /// No mask is needed, since every cached position precedes the query. With <paramref name="gridWeights"/>, it also
    /// returns the cross-attention weights over the grid cells, averaged over heads: [B, P].
    /// </summary>
    public (Tensor Output, Tensor Keys, Tensor Values, Tensor? GridWeights) Step(Tensor input, Tensor pastKeys, Tensor pastValues, Tensor gridKeys, Tensor gridValues, bool gridWeights = false)
    {
        using var scope = torch.NewDisposeScope();
        var (queries, newKeys, newValues) = selfAttn.SelfProjections(input);
        var keys = torch.cat([pastKeys, newKeys], 2);
        var values = torch.cat([pastValues, newValues], 2);
        Tensor? weights = null;
        var output = Block(input, queries, keys, values, causal: false, gridKeys, gridValues, gridWeights ? q => weights = multiheadAttn.Weights(q, gridKeys).squeeze(1) : null);
        return (output.MoveToOuterDisposeScope(), keys.MoveToOuterDisposeScope(), values.MoveToOuterDisposeScope(), weights?.MoveToOuterDisposeScope());
    }

    // The one code path of both modes, so that a cached step computes exactly what teacher forcing does.
    private Tensor Block(Tensor input, Tensor queries, Tensor keys, Tensor values, bool causal, Tensor gridKeys, Tensor gridValues, Action<Tensor>? readGridQueries = null)
    {
        var x = norm1.forward(input + Drop(selfAttn.Attend(queries, keys, values, causal)));
        var gridQueries = multiheadAttn.Queries(x);
        readGridQueries?.Invoke(gridQueries);
        x = norm2.forward(x + Drop(multiheadAttn.Attend(gridQueries, gridKeys, gridValues, causal: false)));
        var hidden = linear1.forward(x);
        hidden = activation == TransformerActivation.GELU ? F.gelu(hidden) : F.relu(hidden);
        return norm3.forward(x + Drop(linear2.forward(Drop(hidden))));
    }

    private Tensor Drop(Tensor input) => dropout > 0 ? F.dropout(input, dropout, training) : input;
}
