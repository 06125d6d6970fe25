namespace ImageCaptioning.Vision;

/// <summary>An encoded image's container format, recognised by its leading magic bytes.</summary>
public enum ImageFormat
{
    /// <summary>Not a format this library recognises.</summary>
    Unknown = 0,
    /// <summary>JPEG/JFIF/EXIF.</summary>
    Jpeg,
    /// <summary>PNG.</summary>
    Png,
    /// <summary>GIF: the first frame is decoded.</summary>
    Gif,
    /// <summary>Windows bitmap.</summary>
    Bmp,
    /// <summary>WebP, lossy or lossless (the first frame of an animation).</summary>
    WebP,
    /// <summary>TIFF: recognised, not decoded.</summary>
    Tiff,
}
