using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace ImageCaptioning.Torch.Native;

/// <summary>Turns the shim's in-band failures into <see cref="TorchException"/>s carrying libtorch's message.</summary>
internal static class ThrowHelper
{
    internal static IntPtr CheckHandle(IntPtr handle)
    {
        if (handle == IntPtr.Zero) ThrowLastError();
        return handle;
    }

    internal static void CheckStatus(int status)
    {
        if (status != 0) ThrowLastError();
    }

    [DoesNotReturn]
    internal static void ThrowLastError()
    {
        var message = TakeString(NativeMethods.ic_take_error()) ?? "libtorch reported a failure without a message";
        throw new TorchException(message);
    }

    /// <summary>Copies and frees a string allocated by the shim.</summary>
    internal static string? TakeString(IntPtr native)
    {
        if (native == IntPtr.Zero) return null;
        try { return Marshal.PtrToStringUTF8(native); }
        finally { NativeMethods.ic_free_string(native); }
    }

    [DoesNotReturn]
    internal static void ThrowArgument(string message, string parameterName) =>
        throw new ArgumentException(message, parameterName);
}
