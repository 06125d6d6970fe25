using ImageCaptioning.Torch;

namespace ImageCaptioning.Vision;

/// <summary>
/// When a CNN trunk runs in oneDNN's blocked layout. libtorch's CPU convolutions already compute in that layout, but
/// a strided input makes every layer convert in and out of it; keeping the activations blocked from the first
/// convolution to the pooling head gives the same values (the same oneDNN kernels) in 0.65× of the time for both
/// VGG16 and ResNet-50 (measured with python3-torch on the same libtorch, batch 16, 2-core CPU). The layout has no
/// autograd, so only inference qualifies.
/// </summary>
internal static class MkldnnInference
{
    /// <summary>Eval mode, no gradient recording, float32 on the CPU, and oneDNN available and enabled.</summary>
    public static bool Applies(torch.nn.Module network, Tensor input) =>
        !network.training && !torch.is_grad_enabled() && input.device.IsCpu && input.dtype == ScalarType.Float32 &&
        !input.is_mkldnn && torch.backends.mkldnn.is_available() && torch.backends.mkldnn.enabled;
}
