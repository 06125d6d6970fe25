using System.Runtime.InteropServices;

namespace ImageCaptioning.Vision.Native;

/// <summary>
/// The part of libjpeg-turbo's TurboJPEG 2.x API (Debian <c>libturbojpeg0</c>) that decoding needs. TurboJPEG
/// reports libjpeg's fatal errors in-band through setjmp/longjmp inside the library, so no native error ever
/// unwinds through managed frames.
/// </summary>
internal static partial class TurboJpeg
{
    private const string Library = "libturbojpeg.so.0";

    /// <summary>TJPF_RGB: interleaved 3-byte RGB.</summary>
    internal const int PixelFormatRgb = 0;

    /// <summary>TJPF_CMYK: interleaved 4-byte CMYK as stored in the file (Adobe files store it inverted).</summary>
    internal const int PixelFormatCmyk = 11;

    /// <summary>TJCS_CMYK.</summary>
    internal const int ColorspaceCmyk = 3;

    /// <summary>TJCS_YCCK.</summary>
    internal const int ColorspaceYcck = 4;

    /// <summary>TJERR_WARNING: the call completed but libjpeg warned (corrupt or truncated data).</summary>
    internal const int ErrorWarning = 0;

    [LibraryImport(Library)]
    internal static partial IntPtr tjInitDecompress();

    // jpegSize is a C 'unsigned long': 64-bit on the LP64 Linux targets this library supports.
    [LibraryImport(Library)]
    internal static unsafe partial int tjDecompressHeader3(
        SafeTurboJpegHandle handle, byte* jpegBuf, nuint jpegSize,
        out int width, out int height, out int jpegSubsamp, out int jpegColorspace);

    [LibraryImport(Library)]
    internal static unsafe partial int tjDecompress2(
        SafeTurboJpegHandle handle, byte* jpegBuf, nuint jpegSize,
        byte* dstBuf, int width, int pitch, int height, int pixelFormat, int flags);

    [LibraryImport(Library)]
    internal static partial IntPtr tjGetErrorStr2(SafeTurboJpegHandle handle);

    [LibraryImport(Library)]
    internal static partial int tjGetErrorCode(SafeTurboJpegHandle handle);

    [LibraryImport(Library)]
    internal static partial int tjDestroy(IntPtr handle);
}

/// <summary>A TurboJPEG decompressor instance, destroyed when released.</summary>
internal sealed class SafeTurboJpegHandle : SafeHandle
{
    public SafeTurboJpegHandle() : base(IntPtr.Zero, ownsHandle: true) { }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => TurboJpeg.tjDestroy(handle) == 0;
}
