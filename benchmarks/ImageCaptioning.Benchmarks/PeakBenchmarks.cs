using BenchmarkDotNet.Attributes;

namespace ImageCaptioning.Benchmarks;

/// <summary>
/// This machine's SGEMM rate at square shapes, with the library's threads, in every category whose rows report a share
/// of it (<see cref="UsefulFlops"/>): benchmarks/compare.py takes the best of the sizes as the peak of that run.
/// </summary>
[BenchmarkCategory("train-step", "decode", "attention")]
public class PeakBenchmarks
{
    private Tensor a = null!, b = null!;

    /// <summary>The side of the square matrices.</summary>
    [Params(1024, 2048)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        HandWritten.SameThreadsAsTheLibrary();
        torch.manual_seed(0);
        a = torch.randn(Size, Size).DetachFromDisposeScope();
        b = torch.randn(Size, Size).DetachFromDisposeScope();
        UsefulFlops.Record(nameof(SquareSgemm), UsefulFlops.MatMul(Size, Size, Size), (nameof(Size), Size));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        a.Dispose();
        b.Dispose();
    }

    /// <summary>[Size, Size] × [Size, Size], float32.</summary>
    [Benchmark]
    public long SquareSgemm()
    {
        using var product = a.mm(b);
        return product.NumberOfElements;
    }
}
