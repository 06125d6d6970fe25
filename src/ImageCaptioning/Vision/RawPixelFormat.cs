namespace ImageCaptioning.Vision;

/// <summary>How raw pixels handed to <see cref="RgbImage.FromPixels(ReadOnlySpan{byte}, int, int, int, RawPixelFormat, string?)"/> are laid out: 8 bits per channel, interleaved.</summary>
public enum RawPixelFormat
{
    /// <summary>R, G, B: 3 bytes per pixel (ImageSharp <c>Rgb24</c>, PIL's "RGB").</summary>
    Rgb24,
    /// <summary>R, G, B, A: 4 bytes per pixel, straight alpha (ImageSharp <c>Rgba32</c>, SkiaSharp <c>Rgba8888</c>).</summary>
    Rgba32,
    /// <summary>B, G, R: 3 bytes per pixel (OpenCV's <c>Mat</c>, System.Drawing <c>Format24bppRgb</c>).</summary>
    Bgr24,
    /// <summary>B, G, R, A: 4 bytes per pixel (System.Drawing <c>Format32bppArgb</c>, SkiaSharp <c>Bgra8888</c>).</summary>
    Bgra32,
}
