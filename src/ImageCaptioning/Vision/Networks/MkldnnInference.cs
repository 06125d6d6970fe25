namespace ImageCaptioning.Vision;

/// <summary>
/// When a CNN trunk runs in oneDNN's blocked layout. libtorch's CPU convolutions already compute in that layout, but
/// a strided input makes every layer convert in and out of it; keeping the activations blocked from the first
/// convolution to the pooling head gives the same values with the same oneDNN kernels. The layout has no
/// autograd, so only inference qualifies. TorchSharp has no <c>to_mkldnn</c>; TorchScript, which can call any ATen
/// op, reaches it.
/// </summary>
internal static class MkldnnInference
{
    private const string Script = """
        def to_mkldnn(x: Tensor) -> Tensor:
            return x.to_mkldnn()

        def to_dense(x: Tensor) -> Tensor:
            return x.to_dense()
        """;

    // Null where the libtorch build has no oneDNN or TorchScript refuses the script: the strided path then runs.
    private static readonly Lazy<torch.jit.CompilationUnit?> Unit = new(Compile, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Whether blocked inference may run: eval mode, no gradient recording, float32 on the CPU, oneDNN present.</summary>
    public static bool Applies(torch.nn.Module network, Tensor input) =>
        Enabled && !network.training && !torch.is_grad_enabled() && input.device_type == DeviceType.CPU &&
        input.dtype == ScalarType.Float32 && Unit.Value is not null;

    /// <summary>Turns the blocked path off (for comparisons and tests); on by default.</summary>
    public static bool Enabled { get; set; } = true;

    /// <summary>The tensor in oneDNN's blocked layout.</summary>
    public static Tensor ToMkldnn(Tensor x) => Unit.Value!.invoke<Tensor>("to_mkldnn", x);

    /// <summary>The tensor back in the strided layout.</summary>
    public static Tensor ToDense(Tensor x) => Unit.Value!.invoke<Tensor>("to_dense", x);

    private static torch.jit.CompilationUnit? Compile()
    {
        try
        {
            // TorchScript's parser wants a newline after the last statement; a raw literal ends without one.
            var unit = torch.jit.compile(Script + "\n");
            using var probe = torch.ones(1, 1, 2, 2);
            using var blocked = unit.invoke<Tensor>("to_mkldnn", probe);
            using var back = unit.invoke<Tensor>("to_dense", blocked);
            return unit;
        }
        catch (System.Runtime.InteropServices.ExternalException)
        {
            return null;
        }
    }
}
