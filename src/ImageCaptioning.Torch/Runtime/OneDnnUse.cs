namespace ImageCaptioning.Torch.Runtime;

/// <summary>
/// Whether libtorch may run its CPU operations through oneDNN in this process, and why. Where it may not, libtorch
/// computes convolutions with its own im2col and BLAS kernels, the ones it uses for float64, and LSTMs without
/// oneDNN's RNN primitive.
/// </summary>
/// <param name="Enabled">True when libtorch may use oneDNN.</param>
/// <param name="Reason">Why: the CPU's cache report, or the <c>IMAGECAPTIONING_ONEDNN</c> setting that decided it.</param>
public sealed record OneDnnUse(bool Enabled, string Reason);
