namespace ImageCaptioning.Tests.Modeling;

/// <summary>
/// The decoders' equations written out with plain float64 matmuls from a model's state_dict: the reference that no
/// fused kernel (oneDNN's RNN primitive, scaled-dot-product attention) takes part in. Every method returns tensors
/// in the caller's dispose scope.
/// </summary>
internal static class WrittenOutEquations
{
    /// <summary>The sizes the kernel sweeps cover: 1–130 with multiples and non-multiples of 8, 16 and 32 on both sides.</summary>
    public static readonly int[] Sizes =
        [1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 20, 23, 24, 28, 31, 32, 33, 40, 47, 48, 49, 56, 63, 64, 65, 72, 80, 95, 96, 97, 100, 112, 127, 128, 129, 130];

    /// <summary>Sequence lengths the sweeps cycle through.</summary>
    public static readonly int[] Lengths = [1, 2, 5, 9, 16];

    /// <summary>The four ways a caller can run a module: eval or train, with gradient recording or without.</summary>
    public static IEnumerable<(bool Training, bool Recording)> Modes()
    {
        foreach (var training in new[] { false, true })
            foreach (var recording in new[] { false, true })
                yield return (training, recording);
    }

    /// <summary>The state_dict in float64, detached.</summary>
    public static Dictionary<string, Tensor> Weights(torch.nn.Module module) =>
        module.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().to_type(ScalarType.Float64));

    /// <summary>x·Wᵀ + b for a [..., in] input.</summary>
    public static Tensor Linear(Dictionary<string, Tensor> w, string name, Tensor x) =>
        x.matmul(w[name + ".weight"].t()) + w[name + ".bias"];

    /// <summary>
    /// One LSTM cell step, PyTorch's gate order (i, f, g, o): gates = x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh,
    /// c' = σ(f)·c + σ(i)·tanh(g), h' = σ(o)·tanh(c').
    /// </summary>
    public static (Tensor H, Tensor C) LstmCell(Tensor x, Tensor h, Tensor c, Tensor weightIh, Tensor weightHh, Tensor biasIh, Tensor biasHh)
    {
        var gates = x.matmul(weightIh.t()) + biasIh + h.matmul(weightHh.t()) + biasHh;
        var chunks = gates.chunk(4, 1);
        var next = chunks[1].sigmoid() * c + chunks[0].sigmoid() * chunks[2].tanh();
        return (chunks[3].sigmoid() * next.tanh(), next);
    }

    /// <summary>
    /// A stacked <c>nn.LSTM</c> (batch first, no dropout) named <paramref name="prefix"/> over x [B, T, in] from
    /// (h0, c0) [layers, B, hidden]: the last layer's output [B, T, hidden].
    /// </summary>
    public static Tensor Lstm(Dictionary<string, Tensor> w, string prefix, int layers, Tensor x, Tensor h0, Tensor c0)
    {
        var input = x;
        for (var layer = 0; layer < layers; layer++)
        {
            var (h, c) = (h0[layer], c0[layer]);
            var outputs = new List<Tensor>();
            for (var t = 0; t < input.size(1); t++)
            {
                (h, c) = LstmCell(input.select(1, t), h, c, w[$"{prefix}.weight_ih_l{layer}"], w[$"{prefix}.weight_hh_l{layer}"],
                    w[$"{prefix}.bias_ih_l{layer}"], w[$"{prefix}.bias_hh_l{layer}"]);
                outputs.Add(h);
            }
            input = torch.stack(outputs, 1);
        }
        return input;
    }

    /// <summary>softmax(q·kᵀ/√d [+ causal mask])·v per head, for q [B, H, Lq, d], k and v [B, H, Lk, d].</summary>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, bool causal)
    {
        var scores = q.matmul(k.transpose(2, 3)) / Math.Sqrt(q.size(3));
        if (causal)
        {
            var future = torch.ones([q.size(2), k.size(2)], dtype: ScalarType.Bool).triu(1);
            scores = scores.masked_fill(future, double.NegativeInfinity);
        }
        return scores.softmax(3).matmul(v);
    }

    /// <summary>LayerNorm over the last dimension with PyTorch's ε = 1e-5 and the biased variance.</summary>
    public static Tensor LayerNorm(Dictionary<string, Tensor> w, string name, Tensor x)
    {
        var mean = x.mean([-1], keepdim: true);
        var variance = (x - mean).square().mean([-1], keepdim: true);
        return (x - mean) / (variance + 1e-5).sqrt() * w[name + ".weight"] + w[name + ".bias"];
    }

    /// <summary>The largest absolute difference between a float32 result and its float64 reference.</summary>
    public static double MaxDifference(Tensor actual, Tensor expected)
    {
        using var scope = torch.NewDisposeScope();
        return (actual.detach().to_type(ScalarType.Float64) - expected).abs().max().item<double>();
    }
}
