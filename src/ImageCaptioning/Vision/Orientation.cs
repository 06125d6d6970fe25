namespace ImageCaptioning.Vision;

/// <summary>The eight EXIF orientations (tag 0x0112), applied as PIL's <c>ImageOps.exif_transpose</c> applies them.</summary>
internal static class Orientation
{
    /// <summary>
    /// The image as it should be displayed for EXIF orientation <paramref name="orientation"/> (1 = as stored);
    /// <paramref name="image"/> is returned as is for 1 and unknown values, otherwise disposed and replaced.
    /// </summary>
    public static RgbImage Apply(RgbImage image, int orientation)
    {
        if (orientation is < 2 or > 8) return image;
        var (w, h) = (image.Width, image.Height);
        var transposed = orientation >= 5;
        var (outWidth, outHeight) = transposed ? (h, w) : (w, h);
        var result = RgbImage.Allocate(outWidth, outHeight, image.Source);
        var source = image.Pixels;
        var target = result.WritableBuffer;
        for (var y = 0; y < outHeight; y++)
        {
            for (var x = 0; x < outWidth; x++)
            {
                // Where output pixel (x, y) comes from in the stored image.
                var (sx, sy) = orientation switch
                {
                    2 => (w - 1 - x, y),
                    3 => (w - 1 - x, h - 1 - y),
                    4 => (x, h - 1 - y),
                    5 => (y, x),
                    6 => (y, h - 1 - x),
                    7 => (w - 1 - y, h - 1 - x),
                    _ => (w - 1 - y, x),
                };
                var from = ((sy * w) + sx) * 3;
                var to = ((y * outWidth) + x) * 3;
                target[to] = source[from];
                target[to + 1] = source[from + 1];
                target[to + 2] = source[from + 2];
            }
        }
        image.Dispose();
        return result;
    }
}
