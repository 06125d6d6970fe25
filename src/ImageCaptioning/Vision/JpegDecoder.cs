using System.Buffers;
using System.Runtime.InteropServices;
using ImageCaptioning.Vision.Native;

namespace ImageCaptioning.Vision;

/// <summary>JPEG decoding through TurboJPEG, matching PIL's output (libjpeg-turbo, accurate DCT, fancy upsampling).</summary>
internal static class JpegDecoder
{
    // TurboJPEG handles are not thread-safe but cheap to keep: one per thread, destroyed by SafeHandle's finalizer
    // when the thread and its handle become unreachable.
    [ThreadStatic] private static SafeTurboJpegHandle? threadHandle;

    // Flags 0 selects the accurate integer IDCT and fancy (smooth) chroma upsampling: PIL's defaults, so the bytes match.
    private const int DecompressFlags = 0;

    public static RgbImage Decode(ReadOnlySpan<byte> encoded, string? source, ImageDecoderOptions options)
    {
        var handle = ThreadHandle();
        try
        {
            return Decode(handle, encoded, source, options);
        }
        catch
        {
            // After a libjpeg error TurboJPEG 2.1 leaves the decompressor mid-header (it does not abort it), and
            // the next header read on that instance misparses a valid file: never reuse a handle that failed.
            threadHandle = null;
            handle.Dispose();
            throw;
        }
    }

    private static unsafe RgbImage Decode(SafeTurboJpegHandle handle, ReadOnlySpan<byte> encoded, string? source, ImageDecoderOptions options)
    {
        fixed (byte* data = encoded)
        {
            if (TurboJpeg.tjDecompressHeader3(handle, data, (nuint)encoded.Length, out var width, out var height, out _, out var colorspace) != 0)
                throw new ImageDecodeException(source, $"invalid JPEG header: {ErrorText(handle)}");
            // libjpeg substitutes an end-of-image marker when the data runs out, so a file cut before its frame
            // header reads as a valid "tables-only" stream with no image.
            if (width == 0 || height == 0)
                throw new ImageDecodeException(source, "the JPEG data ends before any image frame (truncated, or a tables-only stream)");
            ImageDecoder.CheckDimensions(width, height, source, options);

            var image = RgbImage.Allocate(width, height, source);
            try
            {
                if (colorspace is TurboJpeg.ColorspaceCmyk or TurboJpeg.ColorspaceYcck)
                    DecodeCmyk(handle, data, encoded.Length, image, source);
                else
                    fixed (byte* pixels = image.WritableBuffer)
                        Check(handle, TurboJpeg.tjDecompress2(handle, data, (nuint)encoded.Length, pixels, width, width * 3, height, TurboJpeg.PixelFormatRgb, DecompressFlags), source);
                return image;
            }
            catch
            {
                image.Dispose();
                throw;
            }
        }
    }

    private static unsafe void DecodeCmyk(SafeTurboJpegHandle handle, byte* data, int length, RgbImage image, string? source)
    {
        var pixelCount = image.Width * image.Height;
        var cmyk = ArrayPool<byte>.Shared.Rent(pixelCount * 4);
        try
        {
            fixed (byte* buffer = cmyk)
                Check(handle, TurboJpeg.tjDecompress2(handle, data, (nuint)length, buffer, image.Width, image.Width * 4, image.Height, TurboJpeg.PixelFormatCmyk, DecompressFlags), source);
            ConvertInvertedCmykToRgb(cmyk.AsSpan(0, pixelCount * 4), image.WritableBuffer);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(cmyk);
        }
    }

    /// <summary>
    /// PIL reads every CMYK JPEG as Adobe-inverted ("CMYK;I") and converts to RGB without colour management:
    /// R = (255 - K) - C·(255 - K)/255 with its rounded integer division, and likewise for G and B.
    /// </summary>
    internal static void ConvertInvertedCmykToRgb(ReadOnlySpan<byte> stored, Span<byte> rgb)
    {
        for (int i = 0, o = 0; i < stored.Length; i += 4, o += 3)
        {
            var notK = stored[i + 3];
            rgb[o] = (byte)(notK - MulDiv255(255 - stored[i], notK));
            rgb[o + 1] = (byte)(notK - MulDiv255(255 - stored[i + 1], notK));
            rgb[o + 2] = (byte)(notK - MulDiv255(255 - stored[i + 2], notK));
        }
    }

    // PIL's MULDIV255: a·b/255 rounded, exactly as its integer formulation computes it.
    private static int MulDiv255(int a, int b)
    {
        var t = (a * b) + 128;
        return ((t >> 8) + t) >> 8;
    }

    private static void Check(SafeTurboJpegHandle handle, int status, string? source)
    {
        if (status == 0) return;
        var message = ErrorText(handle);
        if (TurboJpeg.tjGetErrorCode(handle) == TurboJpeg.ErrorWarning)
        {
            // libjpeg reports only its first warning. Junk bytes before the end-of-image marker (0xd9) can only be
            // seen after every scan has been decoded, so the pixels are complete: PIL accepts such files too.
            if (message.Contains("extraneous bytes before marker 0xd9", StringComparison.Ordinal)) return;
            throw new ImageDecodeException(source, $"corrupt or truncated JPEG data ({message})");
        }

        throw new ImageDecodeException(source, $"JPEG decoding failed: {message}");
    }

    private static string ErrorText(SafeTurboJpegHandle handle) =>
        Marshal.PtrToStringUTF8(TurboJpeg.tjGetErrorStr2(handle)) is { Length: > 0 } text ? text : "TurboJPEG gave no reason";

    private static SafeTurboJpegHandle ThreadHandle()
    {
        if (threadHandle is { IsInvalid: false, IsClosed: false } existing) return existing;
        var created = new SafeTurboJpegHandle();
        Marshal.InitHandle(created, TurboJpeg.tjInitDecompress());
        if (created.IsInvalid)
            throw new InvalidOperationException("TurboJPEG could not create a decompressor (tjInitDecompress returned null)");
        threadHandle = created;
        return created;
    }
}
