using System.Buffers.Binary;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Vision;

/// <summary>Damaged and forged files: the decoder either decodes them or throws its own exception, and never allocates for a size the data cannot hold.</summary>
[TestFixture]
public sealed class DecoderRobustnessTests
{
    private static readonly string[] Originals =
    [
        "photo_q90.jpg", "photo_progressive.jpg", "cmyk_q90.jpg", "gray_q90.jpg", "photo_q90_444.jpg",
        "photo_500x375.png", "rgba_257x181.png", "palette_trns_150x150.png", "gray_300x200.png", "bilevel_120x90.png",
    ];

    [Test]
    public void Five_hundred_truncated_or_bit_flipped_files_each_decode_or_throw_ImageDecodeException()
    {
        var files = Originals.Select(n => (Name: n, Bytes: File.ReadAllBytes(ReferenceImages.Get()[n].Path))).ToArray();
        var random = new Random(20261201);
        int decoded = 0, rejected = 0;
        for (var trial = 0; trial < 500; trial++)
        {
            var (name, original) = files[trial % files.Length];
            var damaged = (byte[])original.Clone();
            var kind = random.Next(3);
            if (kind != 1)
            {
                // Flip 1-16 bits anywhere, the headers included.
                for (var flips = random.Next(1, 17); flips > 0; flips--)
                    damaged[random.Next(damaged.Length)] ^= (byte)(1 << random.Next(8));
            }
            if (kind != 0) damaged = damaged[..random.Next(1, damaged.Length)];

            var label = $"{name} trial {trial} ({(kind == 0 ? "bit flips" : kind == 1 ? "truncated" : "bit flips, truncated")} to {damaged.Length} bytes)";
            try
            {
                using var image = ImageDecoder.Decode(damaged, label);
                Assert.That(image.Pixels.Length, Is.EqualTo(image.Width * image.Height * 3), label);
                decoded++;
            }
            catch (ImageDecodeException exception)
            {
                Assert.That(exception.Message, Does.Contain(label), "the message names the source");
                rejected++;
            }
        }

        TestContext.Out.WriteLine($"{decoded} decoded, {rejected} rejected with ImageDecodeException");
        Assert.That(rejected, Is.GreaterThan(250), "truncation alone rejects a third of the cases; most flips are caught too");
    }

    [Test]
    public void A_13000x13000_jpeg_header_without_its_data_fails_before_allocating_the_pixels()
    {
        var jpeg = File.ReadAllBytes(ReferenceImages.Get()["photo_q90.jpg"].Path);
        var forged = WithJpegSize(jpeg, 13000, 13000);
        Assert.That(13000L * 13000, Is.LessThan(ImageDecoderOptions.DefaultMaxPixelCount), "under the pixel limit");

        var (exception, managed, native) = Measure(() => ImageDecoder.Decode(forged, "forged.jpg"));

        Assert.That(exception.Reason, Does.Contain("too short to hold the 13000x13000 image"));
        Assert.That(managed, Is.LessThan(16L << 20), "managed bytes allocated while failing");
        if (native is { } grown) Assert.That(grown, Is.LessThan(64L << 20), "peak resident memory growth while failing");
    }

    [Test]
    public void A_13000x13000_png_header_without_its_data_fails_before_allocating_the_pixels()
    {
        var png = File.ReadAllBytes(ReferenceImages.Get()["photo_500x375.png"].Path);
        var forged = WithPngSize(png, 13000, 13000)[..4096];

        var (exception, managed, native) = Measure(() => ImageDecoder.Decode(forged, "forged.png"));

        Assert.That(exception.Reason, Does.Contain("too short to hold the 13000x13000 image"));
        Assert.That(managed, Is.LessThan(16L << 20));
        if (native is { } grown) Assert.That(grown, Is.LessThan(64L << 20));
    }

    [Test]
    public void A_jpeg_header_over_the_pixel_limit_is_refused_by_the_limit()
    {
        var jpeg = File.ReadAllBytes(ReferenceImages.Get()["photo_q90.jpg"].Path);
        var forged = WithJpegSize(jpeg, 20000, 20000);

        var exception = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(forged, "huge.jpg"))!;

        Assert.That(exception.Reason, Does.Contain("20000x20000").And.Contain("MaxPixelCount"));
    }

    [Test]
    public void The_default_limit_of_concurrent_decoding_keeps_that_many_images_within_half_the_memory()
    {
        const long memory = 24L << 30;
        var one = ImageDecoderOptions.ForConcurrentDecoding(1, memory);
        var fifteen = ImageDecoderOptions.ForConcurrentDecoding(15, memory);

        Assert.That(one.MaxPixelCount, Is.EqualTo(ImageDecoderOptions.DefaultMaxPixelCount), "one thread: PIL's limit fits");
        Assert.That(fifteen.MaxPixelCount, Is.EqualTo(memory / 2 / 15 / ImageDecoderOptions.PeakBytesPerPixel));
        Assert.That(15 * fifteen.MaxPixelCount * ImageDecoderOptions.PeakBytesPerPixel, Is.LessThanOrEqualTo(memory / 2));
        Assert.That(new ImageBatchLoaderOptions { DecodeThreads = 15 }.Decoder, Is.EqualTo(ImageDecoderOptions.ForConcurrentDecoding(15)));
        Assert.That(new FeatureExtractorOptions { DecodeThreads = 7 }.Decoder, Is.EqualTo(ImageDecoderOptions.ForConcurrentDecoding(7)));
        var chosen = new ImageDecoderOptions { MaxPixelCount = 1234 };
        Assert.That(new ImageBatchLoaderOptions { DecodeThreads = 15, Decoder = chosen }.Decoder, Is.SameAs(chosen), "an explicit choice wins");
    }

    /// <summary>The managed bytes allocated, and the growth of the peak resident set (Linux), while <paramref name="decode"/> fails.</summary>
    private static (ImageDecodeException Exception, long Managed, long? Native) Measure(Func<RgbImage> decode)
    {
        Assert.Throws<ImageDecodeException>(() => decode().Dispose()); // warm-up: code paths and pools exist
        var resetPeak = TryResetPeakResidentSet();
        var residentBefore = ReadStatus("VmRSS:");
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var exception = Assert.Throws<ImageDecodeException>(() => decode().Dispose())!;
        var managed = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        long? native = resetPeak && residentBefore is { } before && ReadStatus("VmHWM:") is { } peak ? peak - before : null;
        TestContext.Out.WriteLine($"{exception.Reason}; managed {managed} bytes, peak RSS growth {native?.ToString() ?? "unmeasured"} bytes");
        return (exception, managed, native);
    }

    // Writing 5 to clear_refs resets the peak resident set (VmHWM) to the current one.
    private static bool TryResetPeakResidentSet()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static long? ReadStatus(string field)
    {
        if (!File.Exists("/proc/self/status")) return null;
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        return line is null ? null : long.Parse(line[field.Length..].Trim().Split(' ')[0]) * 1024;
    }

    /// <summary>The JPEG with its SOF frame header declaring <paramref name="width"/> × <paramref name="height"/>.</summary>
    internal static byte[] WithJpegSize(byte[] jpeg, int width, int height)
    {
        var forged = (byte[])jpeg.Clone();
        for (var i = 2; i + 9 < forged.Length; i++)
        {
            if (forged[i] != 0xFF || forged[i + 1] is not (0xC0 or 0xC1 or 0xC2)) continue;
            BinaryPrimitives.WriteUInt16BigEndian(forged.AsSpan(i + 5), (ushort)height);
            BinaryPrimitives.WriteUInt16BigEndian(forged.AsSpan(i + 7), (ushort)width);
            return forged;
        }
        throw new InvalidOperationException("no SOF marker");
    }

    /// <summary>The PNG with its IHDR declaring <paramref name="width"/> × <paramref name="height"/> (CRC recomputed).</summary>
    private static byte[] WithPngSize(byte[] png, int width, int height)
    {
        var forged = (byte[])png.Clone();
        Assert.That(forged.AsSpan(12, 4).SequenceEqual("IHDR"u8), Is.True);
        BinaryPrimitives.WriteInt32BigEndian(forged.AsSpan(16), width);
        BinaryPrimitives.WriteInt32BigEndian(forged.AsSpan(20), height);
        BinaryPrimitives.WriteUInt32BigEndian(forged.AsSpan(29), Crc32(forged.AsSpan(12, 17)));
        return forged;
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }
}
