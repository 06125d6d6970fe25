namespace ImageCaptioning.Vision;

/// <summary>Limits applied while decoding images.</summary>
public sealed record ImageDecoderOptions
{
    /// <summary>
    /// PIL's decompression-bomb limit (twice <c>Image.MAX_IMAGE_PIXELS</c>): larger images are refused before any
    /// pixel memory is allocated.
    /// </summary>
    public const long DefaultMaxPixelCount = 178_956_970;

    /// <summary>The shared default options.</summary>
    public static ImageDecoderOptions Default { get; } = new();

    /// <summary>
    /// The largest width × height accepted. A header announcing more is treated as hostile or corrupt and
    /// rejected with <see cref="ImageDecodeException"/>.
    /// </summary>
    public long MaxPixelCount
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            field = value;
        }
    } = DefaultMaxPixelCount;
}
