namespace ImageCaptioning.Vision;

/// <summary>An encoded image's container format, recognised by its leading magic bytes.</summary>
public enum ImageFormat
{
    /// <summary>Not a format this library recognises.</summary>
    Unknown = 0,
    /// <summary>JPEG/JFIF/EXIF (decoded by libjpeg-turbo).</summary>
    Jpeg,
    /// <summary>PNG (decoded by libpng).</summary>
    Png,
    /// <summary>GIF: recognised, not decoded.</summary>
    Gif,
    /// <summary>Windows bitmap: recognised, not decoded.</summary>
    Bmp,
    /// <summary>WebP: recognised, not decoded.</summary>
    WebP,
    /// <summary>TIFF: recognised, not decoded.</summary>
    Tiff,
}
