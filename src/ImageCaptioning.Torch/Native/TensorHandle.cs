using System.Runtime.InteropServices;

namespace ImageCaptioning.Torch.Native;

/// <summary>
/// Owns one native at::Tensor handle. Releasing it (dispose or, as a last resort, finalisation) frees the handle;
/// the live count backs the leak tests.
/// </summary>
internal sealed class TensorHandle : SafeHandle
{
    private static long liveCount;

    /// <summary>The "no tensor" argument for optional native parameters (bias, weight, gradient).</summary>
    internal static readonly TensorHandle Null = new();

    private TensorHandle() : base(IntPtr.Zero, ownsHandle: false)
    {
    }

    internal TensorHandle(IntPtr handle) : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle(handle);
        Interlocked.Increment(ref liveCount);
    }

    internal static long LiveCount => Interlocked.Read(ref liveCount);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        NativeMethods.ic_tensor_free(handle);
        Interlocked.Decrement(ref liveCount);
        return true;
    }
}
