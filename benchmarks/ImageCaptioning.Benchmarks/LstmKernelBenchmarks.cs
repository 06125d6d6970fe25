using BenchmarkDotNet.Attributes;
using ImageCaptioning.Modeling;

namespace ImageCaptioning.Benchmarks;

/// <summary>
/// The ways to run the Show-and-Tell LSTM without gradients, side by side at the decoding step (one token) and over
/// a caption (20 tokens), batch 64, embedding and hidden 256: libtorch's own no-grad forward (oneDNN's
/// forward_inference RNN primitive, wrong for some sizes on some AVX-512 CPUs), the library's recorded forward
/// (oneDNN's forward_training, detached), and the cell equations written out as one input GEMM plus a GEMM and the
/// gate functions per step (no RNN primitive at all).
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("lstm-step")]
public class LstmKernelBenchmarks
{
    private const int Batch = 64, Size = 256;
    private LSTM lstm = null!;
    private Tensor x = null!, h0 = null!, c0 = null!, weightIh = null!, weightHh = null!, bias = null!;

    /// <summary>Tokens per call: 1 is a decoding step, 20 a caption.</summary>
    [Params(1, 20)]
    public int Length { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        HandWritten.SameThreadsAsTheLibrary();
        torch.manual_seed(0);
        lstm = torch.nn.LSTM(Size, Size, batchFirst: true);
        lstm.eval();
        x = torch.randn([Batch, Length, Size]);
        h0 = torch.randn([1, Batch, Size]);
        c0 = torch.randn([1, Batch, Size]);
        var weights = lstm.state_dict();
        weightIh = weights["weight_ih_l0"].detach().t().contiguous();
        weightHh = weights["weight_hh_l0"].detach().t().contiguous();
        bias = (weights["bias_ih_l0"] + weights["bias_hh_l0"]).detach();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { x, h0, c0, weightIh, weightHh, bias }) t.Dispose();
        lstm.Dispose();
    }

    /// <summary>libtorch's forward under no_grad: oneDNN's RNN inference primitive.</summary>
    [Benchmark(Baseline = true)]
    public float NoGradForward()
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var (output, _, _) = lstm.forward(x, (h0, c0));
        return output[0, 0, 0].item<float>();
    }

    /// <summary>The library's forward under no_grad: recorded (forward_training), outputs detached.</summary>
    [Benchmark]
    public float RecordedForward()
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var (output, _, _) = RecordedLstm.Forward(lstm, x, (h0, c0));
        return output[0, 0, 0].item<float>();
    }

    /// <summary>The cell equations with plain GEMMs and element-wise gates, one step at a time.</summary>
    [Benchmark]
    public float WrittenOutCells()
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var inputs = torch.addmm(bias, x.reshape(-1, Size), weightIh, 1, 1).view(Batch, Length, 4 * Size);
        var (h, c) = (h0[0], c0[0]);
        for (var t = 0; t < Length; t++)
        {
            var gates = torch.addmm(inputs.select(1, t), h, weightHh, 1, 1).chunk(4, 1);
            c = gates[1].sigmoid().mul(c).add(gates[0].sigmoid().mul(gates[2].tanh()));
            h = gates[3].sigmoid().mul(c.tanh());
        }
        return h[0, 0].item<float>();
    }
}
