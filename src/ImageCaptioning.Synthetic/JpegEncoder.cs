using System.Buffers;
using ImageCaptioning.IO;
using ImageCaptioning.Vision;
using SkiaSharp;

namespace ImageCaptioning.Synthetic;

/// <summary>
/// Encodes 8-bit RGB pixels as baseline JPEG through SkiaSharp (libjpeg-turbo) with 4:2:0 chroma subsampling and the
/// accurate integer DCT: the settings of PIL's <c>Image.save(path, "JPEG", quality=q)</c>, so the files are what
/// Python pipelines produce and read. All methods are thread-safe.
/// </summary>
public static class JpegEncoder
{
    /// <summary>The quality used when none is given.</summary>
    public const int DefaultQuality = 90;

    // libjpeg's JPEG_MAX_DIMENSION: larger images cannot be stored in a JPEG frame header.
    private const int MaxDimension = 65500;
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

        return Compress(rgb, width, height, quality);
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

    private static unsafe byte[] Compress(ReadOnlySpan<byte> rgb, int width, int height, int quality)
    {
        // Skia encodes from 4-byte pixels (it refuses Rgb888x); opaque RGBA is read as plain RGB.
        var pixelCount = width * height;
        var padded = ArrayPool<byte>.Shared.Rent(checked(pixelCount * 4));
        try
        {
            for (int i = 0, o = 0; i < pixelCount * 3; i += 3, o += 4)
            {
                padded[o] = rgb[i];
                padded[o + 1] = rgb[i + 1];
                padded[o + 2] = rgb[i + 2];
                padded[o + 3] = 255;
            }
            var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
            fixed (byte* pixels = padded)
            {
                using var pixmap = new SKPixmap(info, (IntPtr)pixels, width * 4);
                using var encoded = pixmap.Encode(new SKJpegEncoderOptions(quality, SKJpegEncoderDownsample.Downsample420, SKJpegEncoderAlphaOption.Ignore))
                    ?? throw new InvalidOperationException($"SkiaSharp could not encode the {width}x{height} image as JPEG at quality {quality}");
                return encoded.ToArray();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(padded);
        }
    }
}
