using System.Runtime.InteropServices;
using ImageCaptioning.IO;
using ImageCaptioning.Vision.Native;

namespace ImageCaptioning.Vision;

/// <summary>
/// Encodes 8-bit RGB pixels as baseline JPEG through libjpeg-turbo (TurboJPEG) with 4:2:0 chroma subsampling and the
/// accurate integer DCT: the settings of PIL's <c>Image.save(path, "JPEG", quality=q)</c>, so the files are what
/// Python pipelines produce and read. All methods are thread-safe.
/// </summary>
public static class JpegEncoder
{
    /// <summary>The quality used when none is given.</summary>
    public const int DefaultQuality = 90;

    // libjpeg's JPEG_MAX_DIMENSION: larger images cannot be stored in a JPEG frame header.
    private const int MaxDimension = 65500;

    // Accurate integer DCT (PIL's and libjpeg's default; TurboJPEG would pick the fast one below quality 96), rows top
    // first, and TurboJPEG allocates the output buffer.
    private const int CompressFlags = TurboJpeg.FlagAccurateDct;

    // TurboJPEG handles are not thread-safe but cheap to keep: one per thread, destroyed by SafeHandle's finalizer
    // when the thread and its handle become unreachable.
    [ThreadStatic] private static SafeTurboJpegHandle? threadHandle;

    /// <summary>Encodes <paramref name="image"/> as JPEG.</summary>
    /// <param name="image">The pixels to encode.</param>
    /// <param name="quality">libjpeg's quality scale, 1 (smallest file) to 100 (least loss).</param>
    /// <returns>The complete JPEG file (JFIF).</returns>
    public static byte[] Encode(RgbImage image, int quality = DefaultQuality)
    {
        ArgumentNullException.ThrowIfNull(image);
        return Encode(image.Pixels, image.Width, image.Height, quality);
    }

    /// <summary>Encodes interleaved RGB pixels (rows of <paramref name="width"/> R, G, B bytes, top row first) as JPEG.</summary>
    /// <param name="rgb">Exactly <c>width * height * 3</c> bytes.</param>
    /// <param name="width">Width in pixels, 1 to 65500.</param>
    /// <param name="height">Height in pixels, 1 to 65500.</param>
    /// <param name="quality">libjpeg's quality scale, 1 (smallest file) to 100 (least loss).</param>
    /// <returns>The complete JPEG file (JFIF).</returns>
    public static byte[] Encode(ReadOnlySpan<byte> rgb, int width, int height, int quality = DefaultQuality)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, MaxDimension);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(height, MaxDimension);
        ArgumentOutOfRangeException.ThrowIfLessThan(quality, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quality, 100);
        var expected = (long)width * height * 3;
        if (rgb.Length != expected)
            throw new ArgumentException($"a {width}x{height} RGB image needs {expected} bytes but {rgb.Length} were given", nameof(rgb));

        var handle = ThreadHandle();
        try
        {
            return Compress(handle, rgb, width, height, quality);
        }
        catch
        {
            // Like the decoder, never reuse an instance that failed mid-way.
            threadHandle = null;
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Encodes <paramref name="image"/> and writes it to <paramref name="path"/> atomically (a temporary file in the
    /// same folder, then a rename), creating the folder if needed.
    /// </summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="image">The pixels to encode.</param>
    /// <param name="quality">libjpeg's quality scale, 1 to 100.</param>
    public static void Save(string path, RgbImage image, int quality = DefaultQuality)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Write(path, Encode(image, quality));
    }

    /// <summary>
    /// Encodes interleaved RGB pixels and writes them to <paramref name="path"/> atomically (a temporary file in the
    /// same folder, then a rename), creating the folder if needed.
    /// </summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="rgb">Exactly <c>width * height * 3</c> bytes, rows top first.</param>
    /// <param name="width">Width in pixels, 1 to 65500.</param>
    /// <param name="height">Height in pixels, 1 to 65500.</param>
    /// <param name="quality">libjpeg's quality scale, 1 to 100.</param>
    public static void Save(string path, ReadOnlySpan<byte> rgb, int width, int height, int quality = DefaultQuality)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Write(path, Encode(rgb, width, height, quality));
    }

    private static void Write(string path, byte[] encoded) => AtomicFile.Write(path, stream => stream.Write(encoded));

    private static unsafe byte[] Compress(SafeTurboJpegHandle handle, ReadOnlySpan<byte> rgb, int width, int height, int quality)
    {
        byte* output = null;
        nuint size = 0;
        try
        {
            fixed (byte* pixels = rgb)
            {
                var status = TurboJpeg.tjCompress2(
                    handle, pixels, width, width * 3, height, TurboJpeg.PixelFormatRgb,
                    &output, &size, TurboJpeg.Subsampling420, quality, CompressFlags);
                if (status != 0)
                    throw new InvalidOperationException($"TurboJPEG could not encode the {width}x{height} image at quality {quality}: {ErrorText(handle)}");
            }
            if (size > (nuint)Array.MaxLength)
                throw new InvalidOperationException($"the encoded {width}x{height} JPEG is {size} bytes, larger than an array can hold");
            return new ReadOnlySpan<byte>(output, (int)size).ToArray();
        }
        finally
        {
            // TurboJPEG may have allocated (or grown) the buffer even when it then failed.
            if (output is not null) TurboJpeg.tjFree(output);
        }
    }

    private static string ErrorText(SafeTurboJpegHandle handle) =>
        Marshal.PtrToStringUTF8(TurboJpeg.tjGetErrorStr2(handle)) is { Length: > 0 } text ? text : "TurboJPEG gave no reason";

    private static SafeTurboJpegHandle ThreadHandle()
    {
        if (threadHandle is { IsInvalid: false, IsClosed: false } existing) return existing;
        var created = new SafeTurboJpegHandle();
        Marshal.InitHandle(created, TurboJpeg.tjInitCompress());
        if (created.IsInvalid)
            throw new InvalidOperationException("TurboJPEG could not create a compressor (tjInitCompress returned null)");
        threadHandle = created;
        return created;
    }
}
