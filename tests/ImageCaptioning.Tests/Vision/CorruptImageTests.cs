using ImageCaptioning.Testing;
using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Vision;

[TestFixture]
public sealed class CorruptImageTests
{
    private TempDirectory scratch = null!;

    [SetUp]
    public void CreateScratch() => scratch = new TempDirectory();

    [TearDown]
    public void DeleteScratch() => scratch.Dispose();

    private string Write(string name, byte[] content)
    {
        var path = scratch.File(name);
        File.WriteAllBytes(path, content);
        return path;
    }

    private static byte[] Reference(string name) => File.ReadAllBytes(ReferenceImages.Get()[name].Path);

    private static ImageDecodeException DecodeFails(string path)
    {
        var exception = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(path).Dispose())!;
        Assert.Multiple(() =>
        {
            Assert.That(exception.Message, Does.Contain(path), "the message names the file");
            Assert.That(exception.SourceName, Is.EqualTo(path));
            Assert.That(exception.Reason, Is.Not.Empty);
        });
        return exception;
    }

    [TestCase("photo_q90.jpg")]
    [TestCase("photo_progressive.jpg")]
    [TestCase("gray_q90.jpg")]
    [TestCase("cmyk_q90.jpg")]
    public void Truncated_jpeg_is_rejected_not_padded(string name)
    {
        var bytes = Reference(name);
        var exception = DecodeFails(Write("half.jpg", bytes[..(bytes.Length / 2)]));
        Assert.That(exception.Reason, Does.Contain("truncated").Or.Contain("Premature end"));
    }

    [Test]
    public void Jpeg_missing_only_its_end_marker_is_rejected()
    {
        var bytes = Reference("photo_q90.jpg");
        Assert.That(bytes[^2..], Is.EqualTo(new byte[] { 0xFF, 0xD9 }));
        DecodeFails(Write("no-eoi.jpg", bytes[..^2]));
    }

    [Test]
    public void Jpeg_cut_inside_its_header_is_rejected()
    {
        var exception = DecodeFails(Write("header.jpg", Reference("photo_q90.jpg")[..100]));
        Assert.That(exception.Reason, Does.Contain("JPEG"));
    }

    [Test]
    public void Junk_before_the_end_marker_is_tolerated_like_PIL_does()
    {
        var bytes = Reference("photo_q90.jpg");
        var padded = bytes[..^2].Concat(new byte[] { 0x00, 0x13, 0x37 }).Concat(bytes[^2..]).ToArray();
        using var original = ImageDecoder.Decode(bytes);
        using var tolerated = ImageDecoder.Decode(Write("junk.jpg", padded));
        Assert.That(tolerated.Pixels.ToArray(), Is.EqualTo(original.Pixels.ToArray()));
    }

    [TestCase("photo_500x375.png")]
    [TestCase("rgba_257x181.png")]
    [TestCase("palette_199x143.png")]
    public void Truncated_png_is_rejected(string name)
    {
        var bytes = Reference(name);
        var exception = DecodeFails(Write("half.png", bytes[..(bytes.Length / 2)]));
        Assert.That(exception.Reason, Does.Contain("PNG"));
    }

    [Test]
    public void Png_with_a_damaged_image_chunk_is_rejected()
    {
        var bytes = Reference("photo_500x375.png");
        var idat = bytes.AsSpan().IndexOf("IDAT"u8);
        Assert.That(idat, Is.GreaterThan(0));
        bytes[idat + 40] ^= 0x5A; // inside the compressed data: the chunk CRC no longer matches
        DecodeFails(Write("crc.png", bytes));
    }

    [Test]
    public void Every_strict_prefix_of_a_jpeg_is_rejected_and_nothing_crashes()
    {
        var bytes = Reference("photo_progressive.jpg");
        var random = new Random(7);
        for (var trial = 0; trial < 60; trial++)
        {
            var length = random.Next(1, bytes.Length);
            Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(bytes.AsSpan(0, length), $"prefix {length}").Dispose(),
                $"a {length}-byte prefix of {bytes.Length} decoded");
        }
    }

    [Test]
    public void Every_png_prefix_cut_before_the_image_data_ends_is_rejected_and_nothing_crashes()
    {
        var bytes = Reference("noise_333x517.png");
        // The IEND chunk (12 bytes) and the last IDAT's CRC carry no pixels; any shorter prefix lacks image data.
        var lastImageByte = bytes.Length - 12 - 4;
        var random = new Random(11);
        for (var trial = 0; trial < 60; trial++)
        {
            var length = random.Next(1, lastImageByte);
            Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(bytes.AsSpan(0, length), $"prefix {length}").Dispose(),
                $"a {length}-byte prefix of {bytes.Length} decoded");
        }
    }

    [Test]
    public void Random_bytes_are_rejected_as_an_unrecognised_format()
    {
        var noise = new byte[4096];
        new Random(3).NextBytes(noise);
        noise[0] = 0x42; // not a JPEG/PNG/GIF magic by construction
        noise[1] = 0x00;
        var exception = DecodeFails(Write("noise.jpg", noise));
        Assert.That(exception.Reason, Does.Contain("unrecognised image format"));
    }

    [Test]
    public void Random_bytes_behind_a_jpeg_or_png_signature_are_rejected()
    {
        var random = new Random(5);
        foreach (var (signature, name) in new[] { (new byte[] { 0xFF, 0xD8, 0xFF }, "fake.jpg"), ("\x89PNG\r\n\x1a\n"u8.ToArray(), "fake.png") })
        {
            var content = new byte[2048];
            random.NextBytes(content);
            signature.CopyTo(content, 0);
            DecodeFails(Write(name, content));
        }
    }

    [Test]
    public void Empty_file_is_rejected()
    {
        var exception = DecodeFails(Write("empty.png", []));
        Assert.That(exception.Reason, Does.Contain("empty"));
    }

    [TestCase("unsupported.tif", "Tiff")]
    public void Recognised_but_unsupported_formats_are_rejected_by_name(string file, string format)
    {
        var path = Path.Combine(ReferenceImages.Get().Directory, file);
        // The extension lies on purpose: the format comes from the magic bytes.
        var disguised = Write("disguised.jpg", File.ReadAllBytes(path));
        var exception = DecodeFails(disguised);
        Assert.That(exception.Reason, Does.Contain($"{format} images are not supported"));
        Assert.That(ImageDecoder.DetectFormat(File.ReadAllBytes(path)).ToString(), Is.EqualTo(format));
    }

    [Test]
    public void Png_named_jpg_decodes_by_content()
    {
        var reference = ReferenceImages.Get()["photo_500x375.png"];
        using var image = ImageDecoder.Decode(Write("actually-a-png.jpg", File.ReadAllBytes(reference.Path)));
        Assert.That(image.Pixels.ToArray(), Is.EqualTo(reference.PilRgb()));
    }

    [Test]
    public void Oversized_header_is_refused_before_allocating()
    {
        var reference = ReferenceImages.Get()["photo_q90.jpg"];
        var exception = Assert.Throws<ImageDecodeException>(() =>
            ImageDecoder.Decode(reference.Path, new ImageDecoderOptions { MaxPixelCount = 1000 }))!;
        Assert.That(exception.Reason, Does.Contain("500x375").And.Contain("MaxPixelCount"));
    }

    [Test]
    public void Missing_file_is_an_IOException_naming_the_path()
    {
        var path = scratch.File("missing.jpg");
        var exception = Assert.Throws<FileNotFoundException>(() => ImageDecoder.Decode(path))!;
        Assert.That(exception.Message, Does.Contain(path));
    }
}
