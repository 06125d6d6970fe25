using System.Runtime.InteropServices;

namespace ImageCaptioning.Vision.Native;

// The compression half of the TurboJPEG 2.x API, used by JpegEncoder. A compressor handle is released by the same
// tjDestroy as a decompressor, so it lives in a SafeTurboJpegHandle too.
internal static partial class TurboJpeg
{
    /// <summary>TJSAMP_420: chroma halved in both directions, what cameras and PIL's default write.</summary>
    internal const int Subsampling420 = 2;

    /// <summary>
    /// TJFLAG_ACCURATEDCT: the accurate integer forward DCT. Without it TurboJPEG compresses with the fast DCT below
    /// quality 96, unlike libjpeg's own default that PIL uses.
    /// </summary>
    internal const int FlagAccurateDct = 4096;

    [LibraryImport(Library)]
    internal static partial IntPtr tjInitCompress();

    // With *jpegBuf null and without TJFLAG_NOREALLOC, TurboJPEG allocates the output itself (tjAlloc); the caller frees it with tjFree.
    // jpegSize is a C 'unsigned long': 64-bit on the LP64 Linux targets this library supports.
    [LibraryImport(Library)]
    internal static unsafe partial int tjCompress2(
        SafeTurboJpegHandle handle, byte* srcBuf, int width, int pitch, int height, int pixelFormat,
        byte** jpegBuf, nuint* jpegSize, int jpegSubsamp, int jpegQual, int flags);

    [LibraryImport(Library)]
    internal static unsafe partial void tjFree(byte* buffer);
}
