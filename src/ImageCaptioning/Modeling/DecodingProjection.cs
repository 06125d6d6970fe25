using ImageCaptioning.Torch.Kernels;

namespace ImageCaptioning.Modeling;

/// <summary>
/// A model's output layer as its decoding steps apply it: through <see cref="PackedLinear"/> when the step runs on the
/// CPU in float32 without gradients and the CPU accelerates the kernel (libtorch's oneMKL is slow for the skinny
/// [rows, hidden] × [hidden, V] products of decoding on some CPUs); through the layer itself otherwise (CUDA, other
/// types, self-critical sampling with gradients). Packs the weights at its first packed step: one instance serves one
/// decoding run, during which the weights do not change.
/// </summary>
/// <remarks>
/// The packed path writes every step's logits into one buffer it keeps for the run, so that the logits of many beams
/// (tens of megabytes at a large vocabulary) are not a fresh block per step: glibc maps blocks above 32 MB from the
/// kernel and unmaps them when freed, and faulting those pages in again every step cost more than the product itself
/// on the VMs measured (benchmarks/RESULTS.md). The logits of a step are therefore valid until the next step.
/// </remarks>
internal sealed class DecodingProjection(Linear layer) : IDisposable
{
    private PackedLinear? packed;
    private Tensor? buffer;

    /// <summary>Turns the packed path off in this async flow, so that tests can compare both paths.</summary>
    internal static AsyncLocal<bool> Unpacked { get; } = new();

    /// <summary>
    /// Logits [rows, V] of <paramref name="hidden"/> [rows, width]; they belong to the caller's dispose scope and, on
    /// the packed path, are overwritten by the next call.
    /// </summary>
    public Tensor Apply(Tensor hidden)
    {
        if (Unpacked.Value || !PackedLinear.IsSupported || torch.is_grad_enabled() || hidden.ndim != 2
            || hidden.device_type != DeviceType.CPU || hidden.dtype != ScalarType.Float32 || layer.weight!.dtype != ScalarType.Float32)
            return layer.forward(hidden);
        packed ??= new PackedLinear(layer.weight, layer.bias);
        var rows = hidden.size(0);
        if (buffer is null || buffer.size(0) < rows)
        {
            buffer?.Dispose();
            buffer = torch.empty([rows, packed.OutFeatures], ScalarType.Float32).DetachFromDisposeScope();
        }
        return packed.Forward(hidden, buffer.narrow(0, 0, rows));
    }

    /// <summary>Frees the logits buffer.</summary>
    public void Dispose()
    {
        buffer?.Dispose();
        buffer = null;
    }
}
