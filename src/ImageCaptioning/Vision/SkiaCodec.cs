using System.Buffers;
using SkiaSharp;

namespace ImageCaptioning.Vision;

/// <summary>
/// Decoding through Skia's <see cref="SKCodec"/> (libjpeg-turbo, libpng, libwebp, Wuffs' GIF) into straight RGBA
/// with no colour space (so no colour management), then compacted in place to RGB. <c>SKBitmap.Decode</c> is not
/// used: it premultiplies alpha, which changes the colour of translucent pixels that PIL keeps.
/// </summary>
internal static class SkiaCodec
{
    public static unsafe RgbImage Decode(ReadOnlySpan<byte> encoded, ImageFormat format, string? source, ImageDecoderOptions options)
    {
        // The codec reads the caller's memory in place; it and the data wrapper are disposed inside the pin.
        fixed (byte* data = encoded)
        {
            using var wrapped = SKData.Create((IntPtr)data, encoded.Length);
            using var codec = SKCodec.Create(wrapped)
                ?? throw new ImageDecodeException(source, $"invalid or truncated {Name(format)} header");
            var (width, height) = (codec.Info.Width, codec.Info.Height);
            ImageDecoder.CheckDimensions(width, height, source, options);
            CheckDataCanHoldPixels(format, encoded.Length, width, height, source);

            var target = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
            var pixelCount = width * height;
            var buffer = ArrayPool<byte>.Shared.Rent(pixelCount * 4);
            try
            {
                SKCodecResult result;
                fixed (byte* pixels = buffer)
                    result = codec.GetPixels(target, (IntPtr)pixels, width * 4, new SKCodecOptions(frameIndex: 0, priorFrame: -1));
                if (result != SKCodecResult.Success) throw new ImageDecodeException(source, Reason(result, format));
                PixelRows.RgbaToRgbInPlace(buffer, pixelCount);
                var image = RgbImage.Adopt(buffer, width, height, source);
                buffer = null;
                return options.ApplyExifOrientation ? Orientation.Apply(image, (int)codec.EncodedOrigin) : image;
            }
            finally
            {
                if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>
    /// Refuses, before any pixel memory is allocated, a file far too small for the size its header declares (a
    /// header cut from a huge image, or a forged one). The bounds are what the format's best possible compression
    /// needs: a JPEG spends at least one bit on each 8×8 block of its first component; a PNG's zlib stream is at
    /// least 1/1032 of its filtered rows, which hold at least one bit per pixel.
    /// </summary>
    private static void CheckDataCanHoldPixels(ImageFormat format, long length, int width, int height, string? source)
    {
        var minimum = format switch
        {
            ImageFormat.Jpeg => ((width + 7L) / 8) * ((height + 7L) / 8) / 8,
            ImageFormat.Png => height * (1 + ((width + 7L) / 8)) / 1032,
            _ => 0,
        };
        if (length < minimum)
            throw new ImageDecodeException(source,
                $"the {Name(format)} data is {length} bytes, too short to hold the {width}x{height} image its header declares (at least {minimum} bytes): truncated or corrupt");
    }

    private static string Reason(SKCodecResult result, ImageFormat format) => result switch
    {
        SKCodecResult.IncompleteInput => $"truncated {Name(format)} data: the image data ends before the last row",
        // Skia reports a progressive JPEG cut short, like damaged data, as invalid.
        SKCodecResult.ErrorInInput or SKCodecResult.InvalidInput => $"corrupt or truncated {Name(format)} data ({result})",
        _ => $"{Name(format)} decoding failed ({result})",
    };

    internal static string Name(ImageFormat format) => format switch
    {
        ImageFormat.WebP => "WebP",
        var other => other.ToString().ToUpperInvariant(),
    };
}
