using System.Buffers;
using ImageCaptioning.Vision.Native;

namespace ImageCaptioning.Vision;

/// <summary>PNG decoding through libpng's simplified API, with PIL's <c>convert("RGB")</c> semantics.</summary>
internal static class PngDecoder
{
    public static unsafe RgbImage Decode(ReadOnlySpan<byte> encoded, string? source, ImageDecoderOptions options)
    {
        var png = new PngImage { Version = LibPng.ImageVersion };
        // libpng keeps reading from the caller's memory between begin and finish: both run inside one pin.
        fixed (byte* data = encoded)
        {
            try
            {
                if (LibPng.png_image_begin_read_from_memory(&png, data, (nuint)encoded.Length) == 0)
                    throw new ImageDecodeException(source, $"invalid PNG: {png.MessageText}");
                ImageDecoder.CheckDimensions(png.Width, png.Height, source, options);

                // PIL drops alpha when converting to RGB; asking libpng for RGB would composite instead, so alpha
                // images are read as straight RGBA and the alpha byte discarded here.
                var hasAlpha = (png.Format & LibPng.FormatFlagAlpha) != 0;
                // Without this flag libpng assumes 16-bit samples lacking gAMA/sRGB are linear light and
                // gamma-encodes them; PIL (and every common writer) treats them as ordinary sRGB values.
                png.Flags |= LibPng.ImageFlag16BitSrgb;
                png.Format = hasAlpha ? LibPng.FormatRgba : LibPng.FormatRgb;

                var image = RgbImage.Allocate((int)png.Width, (int)png.Height, source);
                try
                {
                    if (hasAlpha) ReadDroppingAlpha(&png, image, source);
                    else
                        fixed (byte* pixels = image.WritableBuffer)
                            Finish(&png, pixels, source);
                    return image;
                }
                catch
                {
                    image.Dispose();
                    throw;
                }
            }
            finally
            {
                LibPng.png_image_free(&png);
            }
        }
    }

    private static unsafe void ReadDroppingAlpha(PngImage* png, RgbImage image, string? source)
    {
        var pixelCount = image.Width * image.Height;
        var rgba = ArrayPool<byte>.Shared.Rent(pixelCount * 4);
        try
        {
            fixed (byte* buffer = rgba)
                Finish(png, buffer, source);
            var rgb = image.WritableBuffer;
            for (int i = 0, o = 0; o < rgb.Length; i += 4, o += 3)
            {
                rgb[o] = rgba[i];
                rgb[o + 1] = rgba[i + 1];
                rgb[o + 2] = rgba[i + 2];
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rgba);
        }
    }

    private static unsafe void Finish(PngImage* png, byte* buffer, string? source)
    {
        // A zero row stride tells libpng to use the packed width × channels.
        if (LibPng.png_image_finish_read(png, null, buffer, 0, null) == 0 || (png->WarningOrError & LibPng.ImageError) != 0)
            throw new ImageDecodeException(source, $"corrupt or truncated PNG data ({png->MessageText})");
    }
}
