namespace ImageCaptioning.Torch.Kernels;

/// <summary>Which vector width <see cref="PackedLinear"/> computes with.</summary>
internal enum KernelWidth
{
    /// <summary>Neither width is accelerated here.</summary>
    None,

    /// <summary>256-bit vectors with FMA (AVX2).</summary>
    Vector256,

    /// <summary>512-bit vectors (AVX-512).</summary>
    Vector512,
}
