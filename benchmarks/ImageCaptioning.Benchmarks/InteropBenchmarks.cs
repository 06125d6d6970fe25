using BenchmarkDotNet.Attributes;

namespace ImageCaptioning.Benchmarks;

/// <summary>
/// The cost of crossing into libtorch: a tiny op (the P/Invoke, handle and dispose overhead dominates) and the
/// recipe's LSTM forward [64, 31, 256] → hidden 256 (the compute dominates), compared with python3-torch by
/// benchmarks/compare-interop.sh under the same threads.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("interop")]
public class InteropBenchmarks
{
    private Tensor a = null!, b = null!, x = null!, h0 = null!, c0 = null!;
    private LSTM lstm = null!;

    [GlobalSetup]
    public void Setup()
    {
        torch.manual_seed(0);
        a = torch.ones([4]);
        b = torch.ones([4]);
        lstm = torch.nn.LSTM(256, 256, batchFirst: true);
        lstm.eval();
        x = torch.randn([64, 31, 256]);
        h0 = torch.zeros([1, 64, 256]);
        c0 = torch.zeros([1, 64, 256]);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { a, b, x, h0, c0 }) t.Dispose();
        lstm.Dispose();
    }

    /// <summary>One element-wise add of 4 floats, created and disposed.</summary>
    [Benchmark]
    public void TinyAdd()
    {
        using var sum = a.add(b);
    }

    /// <summary>LSTM forward over [64, 31, 256] with hidden 256, inference.</summary>
    [Benchmark]
    public void LstmForward_64x31x256()
    {
        // Grad mode is per thread: entered here, not in GlobalSetup, so it holds on the measuring thread.
        using var noGrad = torch.no_grad();
        var (output, h, c) = lstm.forward(x, (h0, c0));
        output.Dispose();
        h.Dispose();
        c.Dispose();
    }
}
