using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ImageCaptioning.Vision;

/// <summary>Conversions of interleaved 8-bit pixel rows to packed RGB.</summary>
internal static class PixelRows
{
    // Gathers R, G, B of 4 RGBA pixels into the first 12 bytes; the last 4 are don't-care (the next store overwrites them).
    private static readonly Vector128<byte> RgbaToRgbShuffle = Vector128.Create((byte)0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 15, 15, 15, 15);
    private static readonly Vector128<byte> BgraToRgbShuffle = Vector128.Create((byte)2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, 15, 15, 15, 15);

    public static int BytesPerPixel(this RawPixelFormat format) => format switch
    {
        RawPixelFormat.Rgb24 or RawPixelFormat.Bgr24 => 3,
        RawPixelFormat.Rgba32 or RawPixelFormat.Bgra32 => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown pixel format"),
    };

    /// <summary>Converts one row of <paramref name="format"/> pixels into <paramref name="rgb"/> (3 bytes per pixel).</summary>
    public static void ToRgb(ReadOnlySpan<byte> row, Span<byte> rgb, RawPixelFormat format)
    {
        switch (format)
        {
            case RawPixelFormat.Rgb24:
                row.CopyTo(rgb);
                break;
            case RawPixelFormat.Bgr24:
                for (var i = 0; i < rgb.Length; i += 3)
                    (rgb[i], rgb[i + 1], rgb[i + 2]) = (row[i + 2], row[i + 1], row[i]);
                break;
            case RawPixelFormat.Rgba32:
                Compact(row, rgb, RgbaToRgbShuffle, red: 0, blue: 2);
                break;
            case RawPixelFormat.Bgra32:
                Compact(row, rgb, BgraToRgbShuffle, red: 2, blue: 0);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "unknown pixel format");
        }
    }

    /// <summary>
    /// Drops the alpha byte of <paramref name="pixelCount"/> RGBA pixels at the start of <paramref name="buffer"/>,
    /// leaving packed RGB in its first <c>3 × pixelCount</c> bytes. Safe in place: every store lands at or before the
    /// bytes the same step loaded.
    /// </summary>
    public static void RgbaToRgbInPlace(Span<byte> buffer, int pixelCount) =>
        Compact(buffer[..(pixelCount * 4)], buffer[..(pixelCount * 3)], RgbaToRgbShuffle, red: 0, blue: 2);

    // Four pixels per step: load 16 bytes at 4k, store 16 at 3k (3k + 16 <= 4k + 16, so nothing unread is
    // overwritten, in place or not); the last pixels, whose 16-byte store would pass the end of rgb, go one by one.
    private static void Compact(ReadOnlySpan<byte> source, Span<byte> rgb, Vector128<byte> shuffle, int red, int blue)
    {
        var pixels = rgb.Length / 3;
        ref var input = ref MemoryMarshal.GetReference(source);
        ref var output = ref MemoryMarshal.GetReference(rgb);
        var p = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            for (; p + 6 <= pixels; p += 4)
            {
                var quad = Vector128.LoadUnsafe(ref input, (nuint)(p * 4));
                Vector128.Shuffle(quad, shuffle).StoreUnsafe(ref output, (nuint)(p * 3));
            }
        }
        for (; p < pixels; p++)
        {
            rgb[p * 3] = source[(p * 4) + red];
            rgb[(p * 3) + 1] = source[(p * 4) + 1];
            rgb[(p * 3) + 2] = source[(p * 4) + blue];
        }
    }
}
