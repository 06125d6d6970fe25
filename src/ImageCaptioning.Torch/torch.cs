using ImageCaptioning.Torch.Native;

namespace ImageCaptioning.Torch;

/// <summary>The libtorch entry points, named as in PyTorch and TorchSharp.</summary>
public static partial class torch
{
    /// <summary>Opens a scope that disposes the tensors created on this thread until it is disposed.</summary>
    public static DisposeScope NewDisposeScope() => new();

    /// <summary>Seeds libtorch's CPU (and CUDA) generators.</summary>
    public static void manual_seed(long seed) => ThrowHelper.CheckStatus(NativeMethods.ic_manual_seed(unchecked((ulong)seed)));

    /// <summary>Sets the number of threads libtorch uses inside one operation.</summary>
    public static void set_num_threads(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ThrowHelper.CheckStatus(NativeMethods.ic_set_num_threads(threads));
    }

    /// <summary>The number of threads libtorch uses inside one operation.</summary>
    public static int get_num_threads() => NativeMethods.ic_get_num_threads();

    /// <summary>Whether autograd records operations on this thread.</summary>
    public static bool is_grad_enabled() => NativeMethods.ic_is_grad_enabled() != 0;

    /// <summary>Disables autograd on this thread until the returned guard is disposed.</summary>
    public static IDisposable no_grad() => new GradModeGuard(false);

    /// <summary>Enables autograd on this thread until the returned guard is disposed.</summary>
    public static IDisposable enable_grad() => new GradModeGuard(true);

    /// <summary>libtorch's version and build configuration (BLAS, OpenMP, CPU capability, CUDA).</summary>
    public static string build_config() => ThrowHelper.TakeString(NativeMethods.ic_build_config()) ?? "";

    private sealed class GradModeGuard : IDisposable
    {
        private readonly int previous;
        private bool disposed;

        public GradModeGuard(bool enabled) => previous = NativeMethods.ic_set_grad_enabled(enabled ? 1 : 0);

        public void Dispose()
        {
            if (disposed) return;
            disposed = true;
            NativeMethods.ic_set_grad_enabled(previous);
        }
    }

    /// <summary>Backend switches, as <c>torch.backends</c>.</summary>
    public static class backends
    {
        /// <summary>oneDNN (MKL-DNN), the CPU convolution library compiled into libtorch.</summary>
        public static class mkldnn
        {
            /// <summary>Whether the loaded libtorch was built with oneDNN.</summary>
            public static bool is_available() => NativeMethods.ic_mkldnn_is_available() != 0;

            /// <summary>Whether libtorch may use oneDNN (<c>torch.backends.mkldnn.enabled</c>); on by default.</summary>
            public static bool enabled
            {
                get => NativeMethods.ic_mkldnn_is_enabled() != 0;
                set => NativeMethods.ic_mkldnn_set_enabled(value ? 1 : 0);
            }
        }
    }

    /// <summary>CUDA queries.</summary>
    public static class cuda
    {
        /// <summary>Whether the loaded libtorch was built with CUDA and a GPU is visible.</summary>
        public static bool is_available() => NativeMethods.ic_cuda_is_available() != 0;

        /// <summary>Number of visible GPUs (0 for a CPU-only libtorch).</summary>
        public static int device_count() => NativeMethods.ic_cuda_device_count();

        /// <summary>Waits for all work queued on the GPU (the current one when <paramref name="index"/> is -1).</summary>
        public static void synchronize(int index = -1) => ThrowHelper.CheckStatus(NativeMethods.ic_cuda_synchronize(index));
    }
}
