namespace ImageCaptioning.Modeling;

/// <summary>
/// Multi-head attention with the state_dict of <c>torch.nn.MultiheadAttention</c> (in_proj_weight and in_proj_bias
/// stacking the query, key and value projections, then out_proj), computed by scaled_dot_product_attention. The
/// projections are separate methods so that a decoder can project keys and values once and keep them.
/// </summary>
internal sealed class TransformerAttention : torch.nn.Module
{
    private readonly Parameter inProjWeight, inProjBias;
    private readonly Linear outProj;
    private readonly int dimension, heads;
    private readonly double dropout;

    public TransformerAttention(int dimension, int heads, double dropout) : base(nameof(TransformerAttention))
    {
        (this.dimension, this.heads, this.dropout) = (dimension, heads, dropout);
        // PyTorch's initialisation of MultiheadAttention: Xavier-uniform projections, zero biases.
        using (torch.no_grad())
        {
            inProjWeight = new Parameter(torch.empty(3 * dimension, dimension));
            torch.nn.init.xavier_uniform_(inProjWeight);
            inProjBias = new Parameter(torch.zeros(3 * dimension));
        }
        register_parameter("in_proj_weight", inProjWeight);
        register_parameter("in_proj_bias", inProjBias);
        outProj = this.Register("out_proj", torch.nn.Linear(dimension, dimension));
        using (torch.no_grad()) outProj.bias!.zero_();
    }

    // The PyTorch names are registered above; TorchSharp would add the fields under their C# names too.
    protected override void RegisterComponents()
    {
    }

    /// <summary>The queries of <paramref name="input"/> [B, L, D], split into heads: [B, H, L, D/H].</summary>
    public Tensor Queries(Tensor input)
    {
        using var weight = inProjWeight.narrow(0, 0, dimension);
        using var bias = inProjBias.narrow(0, 0, dimension);
        using var projected = F.linear(input, weight, bias);
        return SplitHeads(projected);
    }

    /// <summary>
    /// Self-attention's queries, keys and values [B, heads, L, D/heads] from one product with the whole in-projection,
    /// as PyTorch's packed in-projection does when query, key and value are one tensor.
    /// </summary>
    public (Tensor Queries, Tensor Keys, Tensor Values) SelfProjections(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var projected = F.linear(input, inProjWeight, inProjBias);
        var queries = SplitHeads(projected.narrow(2, 0, dimension));
        var keys = SplitHeads(projected.narrow(2, dimension, dimension));
        var values = SplitHeads(projected.narrow(2, 2 * dimension, dimension));
        return (queries.MoveToOuterDisposeScope(), keys.MoveToOuterDisposeScope(), values.MoveToOuterDisposeScope());
    }

    /// <summary>The keys and values of <paramref name="input"/> [B, S, D], split into heads: each [B, H, S, D/H].</summary>
    public (Tensor Keys, Tensor Values) KeysAndValues(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var projected = F.linear(input, inProjWeight.narrow(0, dimension, 2 * dimension), inProjBias.narrow(0, dimension, 2 * dimension));
        var keys = SplitHeads(projected.narrow(2, 0, dimension));
        var values = SplitHeads(projected.narrow(2, dimension, dimension));
        return (keys.MoveToOuterDisposeScope(), values.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Attention of <paramref name="queries"/> [B, H, L, D/H] over <paramref name="keys"/> and
    /// <paramref name="values"/> [B, H, S, D/H], heads merged and projected: [B, L, D]. <paramref name="causal"/>
    /// masks the keys after each query's position, aligned at the start, so it is for L equal to S.
    /// </summary>
    public Tensor Attend(Tensor queries, Tensor keys, Tensor values, bool causal)
    {
        using var scope = torch.NewDisposeScope();
        // Positional, because TorchSharp spells the causal parameter is_casual.
        var attended = F.scaled_dot_product_attention(queries, keys, values, null, training ? dropout : 0, causal);
        var merged = attended.transpose(1, 2).reshape(queries.size(0), queries.size(2), dimension);
        return outProj.forward(merged).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The attention weights of <paramref name="queries"/> [B, H, L, D/H] over <paramref name="keys"/> [B, H, S, D/H],
    /// averaged over the heads as <c>torch.nn.MultiheadAttention</c> averages them: [B, L, S], each row summing to 1.
    /// SDPA does not return them, so they are computed apart, for the decoding steps that report attention.
    /// </summary>
    public Tensor Weights(Tensor queries, Tensor keys)
    {
        using var scope = torch.NewDisposeScope();
        var scores = queries.matmul(keys.transpose(2, 3)).div(Math.Sqrt(dimension / heads));
        return scores.softmax(3).mean([1]).MoveToOuterDisposeScope();
    }

    private Tensor SplitHeads(Tensor input)
    {
        using var split = input.reshape(input.size(0), input.size(1), heads, dimension / heads);
        return split.transpose(1, 2);
    }
}
