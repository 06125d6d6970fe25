using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ImageCaptioning.Torch.Kernels;

/// <summary>
/// A linear layer's weights packed for products with few input rows on the CPU: <c>y = x·Wᵀ + b</c> for x [N, in],
/// float32, as a decoding step's vocabulary projection computes it (N = the captions or beams still decoding).
/// </summary>
/// <remarks>
/// libtorch's CPU build multiplies such skinny shapes with oneMKL, which takes a slow path for them on AMD CPUs. This
/// kernel keeps W in panels of 16 output features ([in][16] each, zero-padded), multiplies a tile of up to 8 input rows
/// by two panels with 16 vector accumulators that stay in registers, and splits the panels between the library's
/// intra-op threads. It runs with 512-bit vectors where the JIT accelerates them, else with 256-bit vectors and FMA;
/// elsewhere <see cref="IsSupported"/> is false and callers keep <c>torch.nn.functional.linear</c>. The sums are
/// float32 in a different order from BLAS's, so results agree with it to rounding, not bit for bit. The weights are
/// copied when packing: a later change to the layer's parameters is not seen, so pack again after one.
/// </remarks>
public sealed unsafe class PackedLinear
{
    private const int Panel = 16, Rows = 8, Rows256 = 6;
    private readonly float[] panels;   // [panelCount][inFeatures][Panel], pinned
    private readonly float[] bias;     // [panelCount * Panel], zero where there is no bias
    private readonly int panelCount;
    private readonly KernelWidth width;

    /// <summary>Packs <paramref name="weight"/> [out, in] and the optional <paramref name="bias"/> [out] (float32, CPU).</summary>
    /// <exception cref="NotSupportedException">This CPU accelerates neither 512-bit nor 256-bit FMA vectors (<see cref="IsSupported"/>).</exception>
    /// <exception cref="ArgumentException">A tensor is not float32 on the CPU, or the shapes do not fit.</exception>
    public PackedLinear(Tensor weight, Tensor? bias = null) : this(weight, bias, Preferred)
    {
    }

    internal PackedLinear(Tensor weight, Tensor? bias, KernelWidth width)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (width == KernelWidth.None) throw new NotSupportedException("this CPU accelerates neither 512-bit nor 256-bit FMA vectors; use torch.nn.functional.linear");
        if (!Accelerated(width)) throw new NotSupportedException($"the {width} kernel is not accelerated on this CPU");
        CheckCpuFloat(weight, nameof(weight));
        if (weight.ndim != 2) throw new ArgumentException($"weight must be [out, in], got [{string.Join(", ", weight.shape)}]", nameof(weight));
        (OutFeatures, InFeatures) = (checked((int)weight.size(0)), checked((int)weight.size(1)));
        if (OutFeatures == 0 || InFeatures == 0) throw new ArgumentException("weight has no elements", nameof(weight));
        if (bias is not null)
        {
            CheckCpuFloat(bias, nameof(bias));
            if (bias.ndim != 1 || bias.size(0) != OutFeatures)
                throw new ArgumentException($"bias must be [{OutFeatures}], got [{string.Join(", ", bias.shape)}]", nameof(bias));
        }
        this.width = width;
        panelCount = (OutFeatures + Panel - 1) / Panel;
        panels = GC.AllocateUninitializedArray<float>(checked(panelCount * InFeatures * Panel), pinned: true);
        this.bias = new float[panelCount * Panel];
        using var noGrad = torch.no_grad();
        using (var dense = weight.detach().contiguous()) Pack(MemoryMarshal.Cast<byte, float>(dense.bytes));
        if (bias is not null)
            using (var dense = bias.detach().contiguous()) MemoryMarshal.Cast<byte, float>(dense.bytes).CopyTo(this.bias);
    }

    /// <summary>Whether this CPU runs the kernel (512-bit vectors, or 256-bit vectors with FMA, accelerated by the JIT).</summary>
    public static bool IsSupported => Preferred != KernelWidth.None;

    /// <summary>The layer's output features.</summary>
    public int OutFeatures { get; }

    /// <summary>The layer's input features.</summary>
    public int InFeatures { get; }

    internal static KernelWidth Preferred =>
        Accelerated(KernelWidth.Vector512) ? KernelWidth.Vector512 : Accelerated(KernelWidth.Vector256) ? KernelWidth.Vector256 : KernelWidth.None;

    internal static bool Accelerated(KernelWidth width) => width switch
    {
        KernelWidth.Vector512 => Vector512.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Avx512F.IsSupported,
        KernelWidth.Vector256 => Vector256.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Fma.IsSupported,
        _ => false,
    };

    /// <summary><c>input·Wᵀ + b</c>: input [N, in] float32 on the CPU (any strides), result [N, out].</summary>
    /// <exception cref="ArgumentException">The input is not float32 on the CPU, or its last dimension is not <see cref="InFeatures"/>.</exception>
    public Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CheckInput(input);
        var output = torch.empty([input.size(0), OutFeatures], ScalarType.Float32);
        try
        {
            return Forward(input, output);
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    /// <summary>
    /// <c>input·Wᵀ + b</c> written into <paramref name="output"/> [N, out] (contiguous float32 on the CPU), which is
    /// returned: a caller that multiplies every step can keep one output and spare the allocator a large block per step.
    /// </summary>
    /// <exception cref="ArgumentException">A tensor is not float32 on the CPU, the input's last dimension is not <see cref="InFeatures"/>, or the output is not a contiguous [N, <see cref="OutFeatures"/>].</exception>
    public Tensor Forward(Tensor input, Tensor output)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        CheckInput(input);
        CheckCpuFloat(output, nameof(output));
        if (output.ndim != 2 || output.size(0) != input.size(0) || output.size(1) != OutFeatures || !output.is_contiguous())
            throw new ArgumentException($"output must be a contiguous [{input.size(0)}, {OutFeatures}], got [{string.Join(", ", output.shape)}]", nameof(output));
        var rows = checked((int)input.size(0));
        if (rows == 0) return output;
        using var noGrad = torch.no_grad();
        using var dense = input.contiguous();
        fixed (byte* x = dense.bytes)
        fixed (byte* y = output.bytes)
            Multiply((float*)x, rows, (float*)y);
        return output;
    }

    private void CheckInput(Tensor input)
    {
        CheckCpuFloat(input, nameof(input));
        if (input.ndim != 2 || input.size(1) != InFeatures)
            throw new ArgumentException($"input must be [N, {InFeatures}], got [{string.Join(", ", input.shape)}]", nameof(input));
    }

    private void Pack(ReadOnlySpan<float> weight)
    {
        var inFeatures = InFeatures;
        for (var panel = 0; panel < panelCount; panel++)
        {
            var block = panels.AsSpan(panel * inFeatures * Panel, inFeatures * Panel);
            var count = Math.Min(Panel, OutFeatures - panel * Panel);
            if (count < Panel) block.Clear();
            for (var j = 0; j < count; j++)
            {
                var row = weight.Slice((panel * Panel + j) * inFeatures, inFeatures);
                for (var k = 0; k < inFeatures; k++) block[k * Panel + j] = row[k];
            }
        }
    }

    private void Multiply(float* x, int rows, float* y)
    {
        // Work items are pairs of panels (32 outputs) for every row: each thread reads its panels once and keeps them
        // hot in cache across the row tiles.
        var pairs = (panelCount + 1) / 2;
        var threads = Math.Max(1, Math.Min(torch.get_num_threads(), pairs));
        var (xAddress, yAddress) = ((nint)x, (nint)y);
        if (threads == 1)
        {
            MultiplyPairs(0, pairs, xAddress, rows, yAddress);
            return;
        }
        var perThread = (pairs + threads - 1) / threads;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads },
            t => MultiplyPairs(t * perThread, Math.Min(pairs, (t + 1) * perThread), xAddress, rows, yAddress));
    }

    private void MultiplyPairs(int first, int end, nint xAddress, int rows, nint yAddress)
    {
        var x = (float*)xAddress;
        var y = (float*)yAddress;
        var tileRows = width == KernelWidth.Vector512 ? Rows : Rows256;
        var tile = stackalloc float[Rows * 2 * Panel];
        fixed (float* w = panels)
        fixed (float* b = bias)
            for (var pair = first; pair < end; pair++)
                for (var row = 0; row < rows; row += tileRows)
                {
                    if (width == KernelWidth.Vector512) Tile512(x, rows, row, w, b, pair, tile);
                    else Tile256(x, rows, row, w, b, pair, tile);
                    CopyOut(tile, y, rows, row, tileRows, pair);
                }
    }

    // The tile's rows and outputs that exist, from the tile buffer into y. Kept apart from the kernels so that no
    // vector is live across a call there (the JIT would spill every accumulator at each iteration).
    private void CopyOut(float* tile, float* y, int rows, int row, int tileRows, int pair)
    {
        var first = pair * 2 * Panel;
        var count = Math.Min(2 * Panel, OutFeatures - first);
        for (var i = 0; i < tileRows && row + i < rows; i++)
            new ReadOnlySpan<float>(tile + i * 2 * Panel, count).CopyTo(new Span<float>(y + (long)(row + i) * OutFeatures + first, count));
    }

    // Rows past the end repeat the last row (their results are not copied out), so every tile runs the full kernel.
    private float* RowAt(float* x, int rows, int row) => x + (long)Math.Min(row, rows - 1) * InFeatures;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Tile512(float* x, int rows, int row, float* w, float* b, int pair, float* tile)
    {
        var inFeatures = InFeatures;
        var p0 = pair * 2;
        var p1 = Math.Min(p0 + 1, panelCount - 1);
        float* w0 = w + (long)p0 * inFeatures * Panel, w1 = w + (long)p1 * inFeatures * Panel;
        float* x0 = RowAt(x, rows, row), x1 = RowAt(x, rows, row + 1), x2 = RowAt(x, rows, row + 2), x3 = RowAt(x, rows, row + 3);
        float* x4 = RowAt(x, rows, row + 4), x5 = RowAt(x, rows, row + 5), x6 = RowAt(x, rows, row + 6), x7 = RowAt(x, rows, row + 7);
        var b0 = Vector512.Load(b + p0 * Panel);
        var b1 = Vector512.Load(b + p1 * Panel);
        Vector512<float> a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
        Vector512<float> a40 = b0, a41 = b1, a50 = b0, a51 = b1, a60 = b0, a61 = b1, a70 = b0, a71 = b1;
        for (var k = 0; k < inFeatures; k++)
        {
            var v0 = Vector512.Load(w0 + k * Panel);
            var v1 = Vector512.Load(w1 + k * Panel);
            var s = Vector512.Create(x0[k]);
            a00 = Vector512.FusedMultiplyAdd(v0, s, a00); a01 = Vector512.FusedMultiplyAdd(v1, s, a01);
            s = Vector512.Create(x1[k]);
            a10 = Vector512.FusedMultiplyAdd(v0, s, a10); a11 = Vector512.FusedMultiplyAdd(v1, s, a11);
            s = Vector512.Create(x2[k]);
            a20 = Vector512.FusedMultiplyAdd(v0, s, a20); a21 = Vector512.FusedMultiplyAdd(v1, s, a21);
            s = Vector512.Create(x3[k]);
            a30 = Vector512.FusedMultiplyAdd(v0, s, a30); a31 = Vector512.FusedMultiplyAdd(v1, s, a31);
            s = Vector512.Create(x4[k]);
            a40 = Vector512.FusedMultiplyAdd(v0, s, a40); a41 = Vector512.FusedMultiplyAdd(v1, s, a41);
            s = Vector512.Create(x5[k]);
            a50 = Vector512.FusedMultiplyAdd(v0, s, a50); a51 = Vector512.FusedMultiplyAdd(v1, s, a51);
            s = Vector512.Create(x6[k]);
            a60 = Vector512.FusedMultiplyAdd(v0, s, a60); a61 = Vector512.FusedMultiplyAdd(v1, s, a61);
            s = Vector512.Create(x7[k]);
            a70 = Vector512.FusedMultiplyAdd(v0, s, a70); a71 = Vector512.FusedMultiplyAdd(v1, s, a71);
        }
        a00.Store(tile); a01.Store(tile + 16); a10.Store(tile + 32); a11.Store(tile + 48);
        a20.Store(tile + 64); a21.Store(tile + 80); a30.Store(tile + 96); a31.Store(tile + 112);
        a40.Store(tile + 128); a41.Store(tile + 144); a50.Store(tile + 160); a51.Store(tile + 176);
        a60.Store(tile + 192); a61.Store(tile + 208); a70.Store(tile + 224); a71.Store(tile + 240);
    }

    // 256-bit registers are 16 (AVX2): 6 rows × 2 halves of one panel, twice (one panel after the other), keeps 12
    // accumulators, two weight vectors and a broadcast in registers.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Tile256(float* x, int rows, int row, float* w, float* b, int pair, float* tile)
    {
        var p0 = pair * 2;
        Panel256(x, rows, row, w, b, p0, tile);
        Panel256(x, rows, row, w, b, Math.Min(p0 + 1, panelCount - 1), tile + Panel);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Panel256(float* x, int rows, int row, float* w, float* b, int panel, float* tile)
    {
        var inFeatures = InFeatures;
        var wp = w + (long)panel * inFeatures * Panel;
        float* x0 = RowAt(x, rows, row), x1 = RowAt(x, rows, row + 1), x2 = RowAt(x, rows, row + 2);
        float* x3 = RowAt(x, rows, row + 3), x4 = RowAt(x, rows, row + 4), x5 = RowAt(x, rows, row + 5);
        var b0 = Vector256.Load(b + panel * Panel);
        var b1 = Vector256.Load(b + panel * Panel + 8);
        Vector256<float> a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1;
        Vector256<float> a30 = b0, a31 = b1, a40 = b0, a41 = b1, a50 = b0, a51 = b1;
        for (var k = 0; k < inFeatures; k++)
        {
            var v0 = Vector256.Load(wp + k * Panel);
            var v1 = Vector256.Load(wp + k * Panel + 8);
            var s = Vector256.Create(x0[k]);
            a00 = Vector256.FusedMultiplyAdd(v0, s, a00); a01 = Vector256.FusedMultiplyAdd(v1, s, a01);
            s = Vector256.Create(x1[k]);
            a10 = Vector256.FusedMultiplyAdd(v0, s, a10); a11 = Vector256.FusedMultiplyAdd(v1, s, a11);
            s = Vector256.Create(x2[k]);
            a20 = Vector256.FusedMultiplyAdd(v0, s, a20); a21 = Vector256.FusedMultiplyAdd(v1, s, a21);
            s = Vector256.Create(x3[k]);
            a30 = Vector256.FusedMultiplyAdd(v0, s, a30); a31 = Vector256.FusedMultiplyAdd(v1, s, a31);
            s = Vector256.Create(x4[k]);
            a40 = Vector256.FusedMultiplyAdd(v0, s, a40); a41 = Vector256.FusedMultiplyAdd(v1, s, a41);
            s = Vector256.Create(x5[k]);
            a50 = Vector256.FusedMultiplyAdd(v0, s, a50); a51 = Vector256.FusedMultiplyAdd(v1, s, a51);
        }
        const int stride = 2 * Panel;
        a00.Store(tile); a01.Store(tile + 8); a10.Store(tile + stride); a11.Store(tile + stride + 8);
        a20.Store(tile + 2 * stride); a21.Store(tile + 2 * stride + 8); a30.Store(tile + 3 * stride); a31.Store(tile + 3 * stride + 8);
        a40.Store(tile + 4 * stride); a41.Store(tile + 4 * stride + 8); a50.Store(tile + 5 * stride); a51.Store(tile + 5 * stride + 8);
    }

    private static void CheckCpuFloat(Tensor tensor, string name)
    {
        if (tensor.dtype != ScalarType.Float32) throw new ArgumentException($"{name} must be float32, got {tensor.dtype}", name);
        if (tensor.device_type != DeviceType.CPU) throw new ArgumentException($"{name} must be on the CPU, got {tensor.device}", name);
    }
}
