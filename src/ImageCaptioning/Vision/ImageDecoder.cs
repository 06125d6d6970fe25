using System.Buffers;

namespace ImageCaptioning.Vision;

/// <summary>
/// Decodes JPEG, PNG, WebP, BMP and GIF (its first frame) into 8-bit <see cref="RgbImage"/>s through SkiaSharp, with
/// the semantics of PIL's <c>Image.open(path).convert("RGB")</c>: grayscale is replicated, palettes are looked up,
/// alpha is dropped (not composited), no colour profile is applied, CMYK JPEGs get PIL's naive conversion, and the
/// EXIF orientation is left as stored unless <see cref="ImageDecoderOptions.ApplyExifOrientation"/> is set. JPEG and
/// PNG pixels equal PIL's byte for byte. The format is recognised by magic bytes, never by file extension. All
/// methods are thread-safe.
/// </summary>
/// <remarks>
/// A corrupt, truncated, empty, oversized or unsupported image throws <see cref="ImageDecodeException"/> naming
/// the source and the reason; no partially decoded pixels are ever returned. I/O failures (a missing file, a
/// permission error) surface as the usual <see cref="IOException"/>s, which name the path themselves. The pixel
/// limit (<see cref="ImageDecoderOptions.MaxPixelCount"/>), and for JPEG and PNG a check that the data is long
/// enough for the declared size, run before any pixel memory is allocated.
/// <para>
/// A known departure from PIL: a 16-bit grayscale PNG keeps the high byte of each sample here (as PIL does for 16-bit
/// RGB), where PIL opens it as 32-bit integers and <c>convert("RGB")</c> clips them at 255.
/// </para>
/// </remarks>
public static class ImageDecoder
{
    private const string Supported = "JPEG, PNG, WebP, BMP and GIF are";

    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Reads and decodes the image file at <paramref name="path"/>.</summary>
    public static RgbImage Decode(string path, ImageDecoderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        return Decode(file, path, options);
    }

    /// <summary>
    /// Reads <paramref name="stream"/> to its end and decodes it. <paramref name="sourceName"/> names the image in
    /// error messages and in <see cref="RgbImage.Source"/>.
    /// </summary>
    public static RgbImage Decode(Stream stream, string? sourceName = null, ImageDecoderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var (buffer, length) = ReadToPooledBuffer(stream, sourceName);
        try
        {
            return Decode(buffer.AsSpan(0, length), sourceName, options);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Decodes an encoded image held in memory. <paramref name="sourceName"/> names the image in error messages
    /// and in <see cref="RgbImage.Source"/>.
    /// </summary>
    public static RgbImage Decode(ReadOnlySpan<byte> encoded, string? sourceName = null, ImageDecoderOptions? options = null)
    {
        options ??= ImageDecoderOptions.Default;
        if (encoded.IsEmpty) throw new ImageDecodeException(sourceName, "the data is empty (0 bytes)");
        return DetectFormat(encoded) switch
        {
            ImageFormat.Unknown => throw new ImageDecodeException(sourceName,
                $"unrecognised image format (first bytes {Convert.ToHexString(encoded[..Math.Min(8, encoded.Length)])}); {Supported}"),
            ImageFormat.Tiff => throw new ImageDecodeException(sourceName, $"Tiff images are not supported; {Supported}"),
            var format => SkiaCodec.Decode(encoded, format, sourceName, options),
        };
    }

    /// <summary>Recognises an encoded image's format from its first bytes (12 are enough for every format).</summary>
    public static ImageFormat DetectFormat(ReadOnlySpan<byte> header)
    {
        if (header.Length >= 3 && header[0] == 0xFF && header[1] == 0xD8 && header[2] == 0xFF) return ImageFormat.Jpeg;
        if (header.StartsWith(PngSignature)) return ImageFormat.Png;
        if (header.StartsWith("GIF87a"u8) || header.StartsWith("GIF89a"u8)) return ImageFormat.Gif;
        if (header.StartsWith("BM"u8)) return ImageFormat.Bmp;
        if (header.Length >= 12 && header.StartsWith("RIFF"u8) && header[8..12].SequenceEqual("WEBP"u8)) return ImageFormat.WebP;
        if (header.StartsWith("II*\0"u8) || header.StartsWith("MM\0*"u8)) return ImageFormat.Tiff;
        return ImageFormat.Unknown;
    }

    /// <summary>Checks a header's dimensions before any pixel memory is allocated.</summary>
    internal static void CheckDimensions(long width, long height, string? source, ImageDecoderOptions options)
    {
        if (width < 1 || height < 1)
            throw new ImageDecodeException(source, $"the header declares an empty image ({width}x{height})");
        if (width * height > options.MaxPixelCount)
            throw new ImageDecodeException(source,
                $"{width}x{height} = {width * height} pixels exceeds the limit of {options.MaxPixelCount} (ImageDecoderOptions.MaxPixelCount)");
        // The decoder's buffer holds 4 bytes per pixel (RGBA, compacted to RGB in place).
        if (width * height * 4 > Array.MaxLength)
            throw new ImageDecodeException(source, $"{width}x{height} is too large to decode into memory");
    }

    private static (byte[] Buffer, int Length) ReadToPooledBuffer(Stream stream, string? sourceName)
    {
        var capacity = 64 * 1024;
        if (stream.CanSeek)
        {
            var remaining = stream.Length - stream.Position;
            if (remaining > Array.MaxLength)
                throw new ImageDecodeException(sourceName, $"the data is {remaining} bytes, larger than any image this library decodes");
            capacity = (int)Math.Max(remaining, 1);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(capacity);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (buffer.Length >= Array.MaxLength)
                        throw new ImageDecodeException(sourceName, "the data is larger than any image this library decodes");
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, Array.MaxLength));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = stream.Read(buffer, length, buffer.Length - length);
                if (read == 0) return (buffer, length);
                length += read;
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }
}
