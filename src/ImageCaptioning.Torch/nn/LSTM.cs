using static ImageCaptioning.Torch.torch;

namespace ImageCaptioning.Torch.Modules;

/// <summary>
/// A unidirectional, optionally multi-layer LSTM with PyTorch's parameter names (weight_ih_l0, weight_hh_l0,
/// bias_ih_l0, bias_hh_l0, ...) and initialisation U(-1/sqrt(hidden), 1/sqrt(hidden)).
/// </summary>
public sealed class LSTM : nn.Module
{
    private readonly List<Parameter> flatWeights = [];

    /// <summary>Creates the layers.</summary>
    public LSTM(long input_size, long hidden_size, long num_layers = 1, bool bias = true, bool batch_first = false,
        double dropout = 0, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(num_layers, 1);
        (this.input_size, this.hidden_size, this.num_layers, this.bias, this.batch_first, this.dropout) =
            (input_size, hidden_size, num_layers, bias, batch_first, dropout);
        using var scope = NewDisposeScope();
        var stdv = 1.0 / Math.Sqrt(hidden_size);
        for (var layer = 0; layer < num_layers; layer++)
        {
            var layerInput = layer == 0 ? input_size : hidden_size;
            Add($"weight_ih_l{layer}", [4 * hidden_size, layerInput]);
            Add($"weight_hh_l{layer}", [4 * hidden_size, hidden_size]);
            if (bias)
            {
                Add($"bias_ih_l{layer}", [4 * hidden_size]);
                Add($"bias_hh_l{layer}", [4 * hidden_size]);
            }
        }
        // PyTorch draws every weight after creating them all, in parameter order.
        foreach (var p in flatWeights) p.uniform_(-stdv, stdv);

        void Add(string name, long[] shape) => flatWeights.Add(register_parameter(name, new Parameter(empty(shape, device: device)))!);
    }

    /// <summary>Features per input step.</summary>
    public long input_size { get; }
    /// <summary>Features of h and c.</summary>
    public long hidden_size { get; }
    /// <summary>Stacked layers.</summary>
    public long num_layers { get; }
    /// <summary>Whether the layers have biases.</summary>
    public bool bias { get; }
    /// <summary>Whether input and output are [batch, time, features].</summary>
    public bool batch_first { get; }
    /// <summary>Dropout between layers while training.</summary>
    public double dropout { get; }

    /// <summary>
    /// Runs the whole sequence from state (h0, c0) ([num_layers, batch, hidden]; zeros when null).
    /// Returns the top layer's output at every step and the final state.
    /// </summary>
    public (Tensor output, Tensor h_n, Tensor c_n) forward(Tensor input, (Tensor h0, Tensor c0)? state = null)
    {
        if (state is { } s)
            return nn.functional.lstm(input, s.h0, s.c0, flatWeights, bias, num_layers, dropout, training, batch_first);
        var batch = input.size(batch_first ? 0 : 1);
        using var zeros = torch.zeros([num_layers, batch, hidden_size], input.dtype, input.device);
        return nn.functional.lstm(input, zeros, zeros, flatWeights, bias, num_layers, dropout, training, batch_first);
    }

    /// <summary>
    /// One time step for decoding: input [batch, input_size], state [num_layers, batch, hidden]. Carrying the state
    /// between calls equals running the sequence at once, without re-running the prefix.
    /// </summary>
    public (Tensor output, Tensor h, Tensor c) step(Tensor input, Tensor h, Tensor c)
    {
        if (num_layers == 1)
        {
            using var h0 = h.select(0, 0);
            using var c0 = c.select(0, 0);
            var (h1, c1) = nn.functional.lstm_cell(input, h0, c0, flatWeights[0], flatWeights[1],
                bias ? flatWeights[2] : null, bias ? flatWeights[3] : null);
            var output = h1.alias();
            return (output, Unsqueeze(h1), Unsqueeze(c1));
        }
        var perLayer = bias ? 4 : 2;
        var hs = new List<Tensor>();
        var cs = new List<Tensor>();
        using var scope = NewDisposeScope();
        var x = input;
        for (var layer = 0; layer < num_layers; layer++)
        {
            var w = flatWeights.Skip(layer * perLayer).Take(perLayer).ToArray();
            var (hl, cl) = nn.functional.lstm_cell(x, h.select(0, layer), c.select(0, layer), w[0], w[1],
                bias ? w[2] : null, bias ? w[3] : null);
            hs.Add(hl);
            cs.Add(cl);
            x = layer < num_layers - 1 && dropout > 0 ? nn.functional.dropout(hl, dropout, training) : hl;
        }
        var result = (hs[^1].alias(), stack(hs), stack(cs));
        scope.MoveToOuter(result.Item1, result.Item2, result.Item3);
        return result;

        static Tensor Unsqueeze(Tensor t)
        {
            var u = t.unsqueeze(0);
            t.Dispose();
            return u;
        }
    }
}
