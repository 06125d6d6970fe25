namespace ImageCaptioning.Vision;

/// <summary>Limits and behaviour of image decoding.</summary>
public sealed record ImageDecoderOptions
{
    /// <summary>
    /// PIL's decompression-bomb limit (twice <c>Image.MAX_IMAGE_PIXELS</c>): larger images are refused before any
    /// pixel memory is allocated.
    /// </summary>
    public const long DefaultMaxPixelCount = 178_956_970;

    /// <summary>
    /// Bytes of memory one image may need at its peak per pixel while it is decoded and resized for a network: the
    /// decoder's 4-byte RGBA buffer (compacted to RGB in place), libjpeg's coefficient buffer of a progressive JPEG
    /// (up to 6 bytes at 4:4:4) and the encoded file held in memory. The README gives the measured figures.
    /// </summary>
    public const int PeakBytesPerPixel = 11;

    private static readonly Lazy<long> AvailableMemory = new(() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);

    /// <summary>The shared default options (a single decode: PIL's limit).</summary>
    public static ImageDecoderOptions Default { get; } = new();

    /// <summary>
    /// Options for <paramref name="decodeThreads"/> images decoded and resized at once: the pixel limit is PIL's, or
    /// lower where that many images at the limit would need more than half of <paramref name="memoryBytes"/> (by
    /// default the memory available to this process, as the GC sees it: the machine's or the container's).
    /// </summary>
    /// <param name="decodeThreads">Images decoded at once (at least 1).</param>
    /// <param name="memoryBytes">The memory to plan for; null for the available memory.</param>
    public static ImageDecoderOptions ForConcurrentDecoding(int decodeThreads, long? memoryBytes = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(decodeThreads, 1);
        var memory = memoryBytes ?? AvailableMemory.Value;
        ArgumentOutOfRangeException.ThrowIfLessThan(memory, 1);
        var perImage = memory / 2 / decodeThreads / PeakBytesPerPixel;
        return new ImageDecoderOptions { MaxPixelCount = Math.Clamp(perImage, 1, DefaultMaxPixelCount) };
    }

    /// <summary>
    /// The largest width × height accepted. A header announcing more is treated as hostile or corrupt and
    /// rejected with <see cref="ImageDecodeException"/> before pixel memory is allocated.
    /// </summary>
    public long MaxPixelCount
    {
        get;
        init => field = OptionGuard.AtLeast(value, 1L);
    } = DefaultMaxPixelCount;

    /// <summary>
    /// Rotate and flip the pixels as the EXIF orientation tag of a JPEG (or WebP) says. Off by default: PIL's
    /// <c>Image.open</c> and torchvision leave the stored orientation, so features and parity stay theirs; on, the
    /// result equals PIL's <c>ImageOps.exif_transpose</c>.
    /// </summary>
    public bool ApplyExifOrientation { get; init; }
}
