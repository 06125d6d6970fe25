using ImageCaptioning.Torch.Kernels;

namespace ImageCaptioning.Modeling;

/// <summary>
/// A model's output layer as its decoding steps apply it: through <see cref="PackedLinear"/> when the step runs on the
/// CPU in float32 without gradients and the CPU accelerates the kernel (libtorch's oneMKL is slow for the skinny
/// [rows, hidden] × [hidden, V] products of decoding on some CPUs); through the layer itself otherwise (CUDA, other
/// types, self-critical sampling with gradients). Packs the weights at its first packed step: one instance serves one
/// decoding run, during which the weights do not change.
/// </summary>
internal sealed class DecodingProjection(Linear layer)
{
    private PackedLinear? packed;

    /// <summary>Turns the packed path off in this async flow, so that tests can compare both paths.</summary>
    internal static AsyncLocal<bool> Unpacked { get; } = new();

    /// <summary>Logits [rows, V] of <paramref name="hidden"/> [rows, width]; they belong to the caller's dispose scope.</summary>
    public Tensor Apply(Tensor hidden)
    {
        if (Unpacked.Value || !PackedLinear.IsSupported || torch.is_grad_enabled() || hidden.ndim != 2
            || hidden.device_type != DeviceType.CPU || hidden.dtype != ScalarType.Float32 || layer.weight!.dtype != ScalarType.Float32)
            return layer.forward(hidden);
        packed ??= new PackedLinear(layer.weight, layer.bias);
        return packed.Forward(hidden);
    }
}
