using ImageCaptioning.Vision;
using NUnit.Framework;

namespace ImageCaptioning.Tests.Vision;

[TestFixture]
public sealed class ImageDecoderTests
{
    [TestCase("photo_q90.jpg")]
    [TestCase("rgba_257x181.png")]
    public void Path_stream_and_memory_decode_identically(string name)
    {
        var reference = ReferenceImages.Get()[name];
        var bytes = File.ReadAllBytes(reference.Path);
        using var fromPath = ImageDecoder.Decode(reference.Path);
        using var fromMemory = ImageDecoder.Decode(bytes, "memory");
        using var fromSeekable = ImageDecoder.Decode(new MemoryStream(bytes), "seekable");
        using var fromPipe = ImageDecoder.Decode(new NonSeekableStream(bytes), "pipe");

        Assert.Multiple(() =>
        {
            Assert.That(fromMemory.Pixels.ToArray(), Is.EqualTo(fromPath.Pixels.ToArray()));
            Assert.That(fromSeekable.Pixels.ToArray(), Is.EqualTo(fromPath.Pixels.ToArray()));
            Assert.That(fromPipe.Pixels.ToArray(), Is.EqualTo(fromPath.Pixels.ToArray()));
            Assert.That(fromPath.Source, Is.EqualTo(reference.Path));
            Assert.That(fromPipe.Source, Is.EqualTo("pipe"));
        });
    }

    [Test]
    public void Decoding_on_many_threads_at_once_gives_the_same_pixels()
    {
        var references = ReferenceImageNames.All.Select(n => ReferenceImages.Get()[n]).ToArray();
        var expected = references.Select(r => r.PilRgb()).ToArray();
        var mismatches = 0;
        Parallel.For(0, references.Length * 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var k = i % references.Length;
            using var image = ImageDecoder.Decode(references[k].Path);
            if (!image.Pixels.SequenceEqual(expected[k])) Interlocked.Increment(ref mismatches);
        });
        Assert.That(mismatches, Is.Zero);
    }

    [Test]
    public void Disposed_image_refuses_reads()
    {
        var image = RgbImage.FromPixels(2, 1, [1, 2, 3, 4, 5, 6], "tiny");
        Assert.That(image.GetPixel(1, 0), Is.EqualTo(((byte)4, (byte)5, (byte)6)));
        image.Dispose();
        Assert.Throws<ObjectDisposedException>(() => _ = image.Pixels.Length);
    }

    [Test]
    public void FromPixels_checks_the_byte_count()
    {
        Assert.Throws<ArgumentException>(() => RgbImage.FromPixels(2, 2, new byte[11]));
    }

    private sealed class NonSeekableStream(byte[] content) : Stream
    {
        private readonly MemoryStream inner = new(content);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        // Small reads make the decoder grow its buffer several times.
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 1000));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
