using System.Runtime.InteropServices;

namespace ImageCaptioning.Vision.Native;

/// <summary>
/// libpng 1.6's simplified read API (Debian <c>libpng16-16</c>). Unlike the classic API it traps libpng's
/// longjmp-based errors internally and reports them in <see cref="PngImage.Message"/>, which makes it safe to call
/// from managed code.
/// </summary>
internal static partial class LibPng
{
    private const string Library = "libpng16.so.16";

    /// <summary>PNG_IMAGE_VERSION.</summary>
    internal const uint ImageVersion = 1;

    internal const uint FormatFlagAlpha = 0x01;
    internal const uint FormatFlagColor = 0x02;
    internal const uint FormatFlagLinear = 0x04;

    /// <summary>PNG_FORMAT_RGB: 8-bit sRGB, 3 bytes per pixel.</summary>
    internal const uint FormatRgb = FormatFlagColor;

    /// <summary>PNG_FORMAT_RGBA: 8-bit sRGB with straight (not premultiplied) alpha.</summary>
    internal const uint FormatRgba = FormatFlagColor | FormatFlagAlpha;

    /// <summary>PNG_IMAGE_FLAG_16BIT_sRGB: 16-bit samples without gAMA/sRGB are sRGB-encoded, not linear.</summary>
    internal const uint ImageFlag16BitSrgb = 0x04;

    /// <summary>PNG_IMAGE_ERROR bit of <see cref="PngImage.WarningOrError"/>.</summary>
    internal const uint ImageError = 2;

    [LibraryImport(Library)]
    internal static unsafe partial int png_image_begin_read_from_memory(PngImage* image, byte* memory, nuint size);

    [LibraryImport(Library)]
    internal static unsafe partial int png_image_finish_read(PngImage* image, void* background, byte* buffer, int rowStride, void* colormap);

    [LibraryImport(Library)]
    internal static unsafe partial void png_image_free(PngImage* image);
}

/// <summary>
/// libpng's <c>png_image</c> (png.h, PNG_IMAGE_VERSION 1): a pointer, seven 32-bit fields and a 64-byte message,
/// 104 bytes on LP64 with the trailing padding.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct PngImage
{
    public IntPtr Opaque;
    public uint Version;
    public uint Width;
    public uint Height;
    public uint Format;
    public uint Flags;
    public uint ColormapEntries;
    public uint WarningOrError;
    public fixed byte Message[64];

    public readonly string MessageText
    {
        get
        {
            fixed (byte* text = Message)
                return Marshal.PtrToStringUTF8((IntPtr)text, new ReadOnlySpan<byte>(text, 64).IndexOf((byte)0) is var n and >= 0 ? n : 64);
        }
    }
}
