using System.Buffers;

namespace ImageCaptioning.Vision;

/// <summary>
/// A decoded 8-bit RGB image: <see cref="Height"/> rows of <see cref="Width"/> interleaved R, G, B bytes (HWC).
/// The pixels cannot be changed. The buffer is rented from <see cref="ArrayPool{T}.Shared"/>: dispose the image
/// when done so the next decode can reuse it; reading a disposed image throws.
/// </summary>
public sealed class RgbImage : IDisposable
{
    private byte[]? buffer;

    private RgbImage(byte[] buffer, int width, int height, string? source)
    {
        this.buffer = buffer;
        Width = width;
        Height = height;
        Source = source;
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>The file path or name the image was decoded from, if known (used in error messages).</summary>
    public string? Source { get; }

    /// <summary>Bytes of pixel data: <c>Width * Height * 3</c>.</summary>
    public int ByteCount => Width * Height * 3;

    /// <summary>The pixels, row-major, 3 bytes per pixel in R, G, B order.</summary>
    public ReadOnlySpan<byte> Pixels => Buffer.AsSpan(0, ByteCount);

    /// <summary>The R, G, B bytes of the pixel in column <paramref name="x"/>, row <paramref name="y"/>.</summary>
    public (byte R, byte G, byte B) GetPixel(int x, int y)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(x);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(x, Width);
        ArgumentOutOfRangeException.ThrowIfNegative(y);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(y, Height);
        var offset = ((y * Width) + x) * 3;
        var pixels = Buffer;
        return (pixels[offset], pixels[offset + 1], pixels[offset + 2]);
    }

    /// <summary>An image holding a copy of <paramref name="pixels"/> (HWC, RGB, exactly width × height × 3 bytes).</summary>
    public static RgbImage FromPixels(int width, int height, ReadOnlySpan<byte> pixels, string? source = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        var expected = (long)width * height * 3;
        if (pixels.Length != expected)
            throw new ArgumentException($"a {width}x{height} RGB image needs {expected} bytes but {pixels.Length} were given", nameof(pixels));
        var image = Allocate(width, height, source);
        pixels.CopyTo(image.WritableBuffer);
        return image;
    }

    /// <summary>
    /// An image holding a copy of pixels another library decoded (ImageSharp, System.Drawing, OpenCvSharp, SkiaSharp, a
    /// camera buffer): <paramref name="height"/> rows, each starting <paramref name="stride"/> bytes after the previous
    /// one, of <paramref name="width"/> pixels laid out as <paramref name="format"/> says. Alpha is dropped, not
    /// composited, as PIL's <c>convert("RGB")</c> does.
    /// </summary>
    /// <param name="pixels">The rows, top first; the last row may end right after its last pixel (no trailing padding needed).</param>
    /// <param name="width">Pixels per row.</param>
    /// <param name="height">Rows.</param>
    /// <param name="stride">Bytes from the start of one row to the start of the next: at least <c>width</c> × bytes per pixel.</param>
    /// <param name="format">The channel order and bytes per pixel.</param>
    /// <param name="source">A name for error messages, if any.</param>
    public static RgbImage FromPixels(ReadOnlySpan<byte> pixels, int width, int height, int stride, RawPixelFormat format, string? source = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        var bytesPerPixel = format.BytesPerPixel();
        var rowBytes = (long)width * bytesPerPixel;
        if (stride < rowBytes)
            throw new ArgumentOutOfRangeException(nameof(stride), stride, $"a row of {width} {format} pixels needs at least {rowBytes} bytes");
        if ((long)width * height * 3 > Array.MaxLength)
            throw new ArgumentException($"a {width}x{height} image is too large to hold in memory", nameof(width));
        var needed = ((long)(height - 1) * stride) + rowBytes;
        if (pixels.Length < needed)
            throw new ArgumentException($"{height} rows of {width} {format} pixels {stride} bytes apart need {needed} bytes but {pixels.Length} were given", nameof(pixels));

        var image = Allocate(width, height, source);
        var destination = image.WritableBuffer;
        var rgbRow = width * 3;
        for (var y = 0; y < height; y++)
            PixelRows.ToRgb(pixels.Slice((int)((long)y * stride), (int)rowBytes), destination.Slice(y * rgbRow, rgbRow), format);
        return image;
    }

    /// <summary>Rents a buffer for a decoder to fill; the caller guarantees the size fits in an array.</summary>
    internal static RgbImage Allocate(int width, int height, string? source) =>
        new(ArrayPool<byte>.Shared.Rent(width * height * 3), width, height, source);

    /// <summary>
    /// Takes ownership of a pooled buffer whose first <c>width * height * 3</c> bytes hold the pixels (a decoder's
    /// RGBA buffer compacted in place); it goes back to <see cref="ArrayPool{T}.Shared"/> on dispose.
    /// </summary>
    internal static RgbImage Adopt(byte[] pooledBuffer, int width, int height, string? source) =>
        pooledBuffer.Length >= (long)width * height * 3
            ? new(pooledBuffer, width, height, source)
            : throw new ArgumentException("the buffer is smaller than the image", nameof(pooledBuffer));

    /// <summary>The decoder's write access while it fills a freshly allocated image.</summary>
    internal Span<byte> WritableBuffer => Buffer.AsSpan(0, ByteCount);

    private byte[] Buffer => buffer ?? throw new ObjectDisposedException(nameof(RgbImage), $"the image{(Source is null ? "" : $" '{Source}'")} has been disposed");

    /// <summary>Returns the pixel buffer to the pool.</summary>
    public void Dispose()
    {
        var returned = Interlocked.Exchange(ref buffer, null);
        if (returned is not null) ArrayPool<byte>.Shared.Return(returned);
    }

    /// <inheritdoc/>
    public override string ToString() => $"RgbImage {Width}x{Height}{(Source is null ? "" : $" from '{Source}'")}";
}
