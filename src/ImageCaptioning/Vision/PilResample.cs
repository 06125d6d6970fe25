using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ImageCaptioning.Vision;

/// <summary>
/// PIL's <c>Image.resize(size, Image.BILINEAR)</c> of an RGB image (what torchvision's <c>Resize</c> does to PIL
/// images) and <c>Image.BICUBIC</c> (what BLIP's image processor asks for), with Pillow's own arithmetic
/// (libImaging/Resample.c): the antialiased filter's coefficients in double precision, rounded to 22-bit fixed point; a horizontal pass over only the rows the vertical pass reads, then a
/// vertical pass, each rounding to 8 bits. The output is PIL's byte for byte.
/// </summary>
internal static class PilResample
{
    private const int PrecisionBits = 32 - 8 - 2;
    private const int Half = 1 << (PrecisionBits - 1);

    public static RgbImage Bilinear(RgbImage image, ImageSize size) => Resample(image, size, 1.0, Triangle);

    /// <summary>Pillow's bicubic filter (support 2, a = -0.5); its negative lobes are clipped to 0..255 as Pillow does.</summary>
    public static RgbImage Bicubic(RgbImage image, ImageSize size) => Resample(image, size, 2.0, Cubic);

    private static RgbImage Resample(RgbImage image, ImageSize size, double filterSupport, Func<double, double> filter)
    {
        var (inWidth, inHeight) = (image.Width, image.Height);
        var horizontal = Coefficients(inWidth, size.Width, filterSupport, filter);
        var vertical = Coefficients(inHeight, size.Height, filterSupport, filter);
        var needHorizontal = size.Width != inWidth;
        var needVertical = size.Height != inHeight;

        if (!needHorizontal && !needVertical) return RgbImage.FromPixels(inWidth, inHeight, image.Pixels, image.Source);
        if (!needVertical)
        {
            var output = RgbImage.Allocate(size.Width, inHeight, image.Source);
            Horizontal(image.Pixels, inWidth, 0, inHeight, horizontal, output.WritableBuffer, size.Width);
            return output;
        }
        if (!needHorizontal)
        {
            var output = RgbImage.Allocate(inWidth, size.Height, image.Source);
            Vertical(image.Pixels, inWidth * 3, vertical, 0, output.WritableBuffer);
            return output;
        }

        // As Pillow: the horizontal pass covers the rows from the first the vertical pass reads to the last.
        var firstRow = vertical.Bounds[0];
        var lastRow = vertical.Bounds[(size.Height - 1) * 2] + vertical.Bounds[((size.Height - 1) * 2) + 1];
        var rows = lastRow - firstRow;
        var temporaryLength = size.Width * 3 * rows;
        var temporary = ArrayPool<byte>.Shared.Rent(temporaryLength);
        try
        {
            Horizontal(image.Pixels, inWidth, firstRow, rows, horizontal, temporary, size.Width);
            var result = RgbImage.Allocate(size.Width, size.Height, image.Source);
            Vertical(temporary.AsSpan(0, temporaryLength), size.Width * 3, vertical, firstRow, result.WritableBuffer);
            return result;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(temporary);
        }
    }

    /// <summary>Pillow's <c>precompute_coeffs</c> and <c>normalize_coeffs_8bpc</c>.</summary>
    private static Filter Coefficients(int inSize, int outSize, double filterSupport, Func<double, double> filter)
    {
        var scale = (double)inSize / outSize;
        var filterScale = Math.Max(scale, 1.0);
        var support = filterSupport * filterScale;
        var kernelSize = ((int)Math.Ceiling(support) * 2) + 1;
        var weights = new int[outSize * kernelSize];
        var bounds = new int[outSize * 2];
        var k = new double[kernelSize];
        for (var xx = 0; xx < outSize; xx++)
        {
            var center = (xx + 0.5) * scale;
            var ww = 0.0;
            var ss = 1.0 / filterScale;
            var xmin = (int)(center - support + 0.5);
            if (xmin < 0) xmin = 0;
            var xmax = (int)(center + support + 0.5);
            if (xmax > inSize) xmax = inSize;
            xmax -= xmin;
            for (var x = 0; x < xmax; x++)
            {
                var w = filter((x + xmin - center + 0.5) * ss);
                k[x] = w;
                ww += w;
            }
            for (var x = 0; x < kernelSize; x++)
            {
                var value = x < xmax && ww != 0.0 ? k[x] / ww : 0.0;
                weights[(xx * kernelSize) + x] = value < 0
                    ? (int)(-0.5 + (value * (1 << PrecisionBits)))
                    : (int)(0.5 + (value * (1 << PrecisionBits)));
            }
            bounds[xx * 2] = xmin;
            bounds[(xx * 2) + 1] = xmax;
        }
        return new Filter(kernelSize, weights, bounds);
    }

    private static double Triangle(double x)
    {
        if (x < 0.0) x = -x;
        return x < 1.0 ? 1.0 - x : 0.0;
    }

    private static double Cubic(double x)
    {
        const double A = -0.5;
        if (x < 0.0) x = -x;
        if (x < 1.0) return ((((A + 2.0) * x) - (A + 3.0)) * x * x) + 1;
        if (x < 2.0) return ((((x - 5) * x) + 8) * x - 4) * A;
        return 0.0;
    }

    private static byte Clip8(int value) => (byte)Math.Clamp(value >> PrecisionBits, 0, 255);

    // One output pixel's R, G, B sums ride in the first three lanes of a Vector128<int>: each tap loads 4 bytes (the
    // pixel and the next one's red, whose lane is ignored), widens them and multiply-adds the tap's weight. The last
    // pixel of the buffer, where a 4-byte load would read past the end, goes through the scalar loop.
    private static void Horizontal(ReadOnlySpan<byte> input, int inWidth, int firstRow, int rows, Filter filter, Span<byte> output, int outWidth)
    {
        ref var weights = ref MemoryMarshal.GetArrayDataReference(filter.Weights);
        ref var start = ref MemoryMarshal.GetReference(input);
        var lastSafe = input.Length - 4;
        var vectorised = Vector128.IsHardwareAccelerated;
        for (var y = 0; y < rows; y++)
        {
            var rowStart = (firstRow + y) * inWidth * 3;
            var target = output.Slice(y * outWidth * 3, outWidth * 3);
            for (var xx = 0; xx < outWidth; xx++)
            {
                var first = rowStart + (filter.Bounds[xx * 2] * 3);
                var count = filter.Bounds[(xx * 2) + 1];
                ref var k = ref Unsafe.Add(ref weights, xx * filter.KernelSize);
                int r, g, b;
                if (vectorised && first + ((count - 1) * 3) <= lastSafe)
                {
                    var sum = Vector128.Create(Half);
                    for (var x = 0; x < count; x++)
                    {
                        var bytes = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref start, first + (x * 3)))).AsByte();
                        var values = Vector128.WidenLower(Vector128.WidenLower(bytes)).AsInt32();
                        sum += values * Unsafe.Add(ref k, x);
                    }
                    (r, g, b) = (sum.GetElement(0), sum.GetElement(1), sum.GetElement(2));
                }
                else
                {
                    (r, g, b) = (Half, Half, Half);
                    for (var x = 0; x < count; x++)
                    {
                        var w = Unsafe.Add(ref k, x);
                        var offset = first + (x * 3);
                        r += input[offset] * w;
                        g += input[offset + 1] * w;
                        b += input[offset + 2] * w;
                    }
                }
                target[xx * 3] = Clip8(r);
                target[(xx * 3) + 1] = Clip8(g);
                target[(xx * 3) + 2] = Clip8(b);
            }
        }
    }

    // Every byte of an output row is the same weighted sum of bytes in the input rows above and below, so whole rows
    // run through Vector<int> lanes: widen bytes to ints, multiply-add the row's weight, shift, clamp, narrow.
    private static void Vertical(ReadOnlySpan<byte> input, int rowBytes, Filter filter, int rowOffset, Span<byte> output)
    {
        var rented = ArrayPool<int>.Shared.Rent(rowBytes);
        var accumulators = rented.AsSpan(0, rowBytes);
        try
        {
            VerticalRows(input, rowBytes, filter, rowOffset, output, accumulators);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(rented);
        }
    }

    private static void VerticalRows(ReadOnlySpan<byte> input, int rowBytes, Filter filter, int rowOffset, Span<byte> output, Span<int> accumulators)
    {
        var outHeight = output.Length / rowBytes;
        var lanes = Vector<int>.Count;
        var block = Vector<byte>.Count;
        for (var yy = 0; yy < outHeight; yy++)
        {
            var ymin = filter.Bounds[yy * 2] - rowOffset;
            var count = filter.Bounds[(yy * 2) + 1];
            var weights = filter.Weights.AsSpan(yy * filter.KernelSize, count);
            accumulators.Fill(Half);
            for (var y = 0; y < count; y++)
            {
                var row = input.Slice((ymin + y) * rowBytes, rowBytes);
                var weight = new Vector<int>(weights[y]);
                var i = 0;
                for (; i + block <= rowBytes; i += block)
                {
                    Vector.Widen(new Vector<byte>(row[i..]), out var low, out var high);
                    Vector.Widen(low, out var a, out var b);
                    Vector.Widen(high, out var c, out var d);
                    var acc = accumulators[i..];
                    (new Vector<int>(acc) + (Vector.AsVectorInt32(a) * weight)).CopyTo(acc);
                    (new Vector<int>(acc[lanes..]) + (Vector.AsVectorInt32(b) * weight)).CopyTo(acc[lanes..]);
                    (new Vector<int>(acc[(2 * lanes)..]) + (Vector.AsVectorInt32(c) * weight)).CopyTo(acc[(2 * lanes)..]);
                    (new Vector<int>(acc[(3 * lanes)..]) + (Vector.AsVectorInt32(d) * weight)).CopyTo(acc[(3 * lanes)..]);
                }
                for (; i < rowBytes; i++) accumulators[i] += row[i] * weights[y];
            }
            var target = output.Slice(yy * rowBytes, rowBytes);
            for (var i = 0; i < rowBytes; i++) target[i] = Clip8(accumulators[i]);
        }
    }

    private sealed record Filter(int KernelSize, int[] Weights, int[] Bounds);
}
