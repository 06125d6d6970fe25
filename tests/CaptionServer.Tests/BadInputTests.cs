using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Net;
using ImageCaptioning.Synthetic;
using NUnit.Framework;

namespace CaptionServer.Tests;

/// <summary>Each kind of bad input gets its own status and a reason, reads no more than it must, and leaves the server serving.</summary>
[TestFixture]
public sealed class BadInputTests
{
    private const int UploadLimit = 64 * 1024;
    private Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> server = null!;
    private HttpClient client = null!;

    [OneTimeSetUp]
    public void Start()
    {
        server = ServerFactory.Create((nameof(CaptionServerOptions.MaxUploadBytes), UploadLimit.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        client = ServerFactory.Client(server);
    }

    [OneTimeTearDown]
    public void Stop()
    {
        client.Dispose();
        server.Dispose();
    }

    // Every test ends by showing that the server still captions: a request never costs more than its own answer.
    [TearDown]
    public async Task TheServerStillCaptions()
    {
        using var response = await Http.PostRawAsync(client, File.ReadAllBytes(TinyModel.Images[0]));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), "after a bad request, a good one is still captioned");
    }

    [TestCase("?bogus=1", "unknown option 'bogus'")]
    [TestCase("?beam=0", "option 'beam' must be between 1 and 8 (got 0)")]
    [TestCase("?beam=99", "option 'beam' must be between 1 and 8 (got 99)")]
    [TestCase("?beam=two", "option 'beam' must be an integer (got 'two')")]
    [TestCase("?temperature=0", "option 'temperature' must be a positive number (got '0')")]
    [TestCase("?temperature=NaN", "option 'temperature' must be a positive number (got 'NaN')")]
    [TestCase("?beam=2&temperature=1", "beam and temperature exclude each other")]
    [TestCase("?seed=3", "topK and seed apply to sampling")]
    [TestCase("?temperature=1&topK=-1", "option 'topK' must be at least 0 (got -1)")]
    [TestCase("?maxLength=65", "option 'maxLength' must be between 1 and 64 (got 65)")]
    [TestCase("?beam=2&beam=3", "option 'beam' is given 2 times")]
    [TestCase("?strip=maybe", "option 'strip' must be true or false (got 'maybe')")]
    [TestCase("?prompt=a%20dog", "option 'prompt' is for pretrained checkpoints that take a text prompt (BLIP)")]
    public async Task AWrongOptionIs400NamingIt(string query, string reason)
    {
        using var response = await Http.PostRawAsync(client, File.ReadAllBytes(TinyModel.Images[0]), query);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await Http.DetailAsync(response), Does.Contain(reason));
    }

    [Test]
    public async Task AnUploadOverTheLimitIs413()
    {
        using var response = await Http.PostRawAsync(client, new byte[UploadLimit + 1]);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
        Assert.That(await Http.DetailAsync(response), Does.Contain($"over the limit of {UploadLimit} bytes"));
    }

    [Test]
    public async Task AnUploadAtTheLimitIsRead()
    {
        // At the limit the body is read whole and judged as an image: zeros are not one.
        using var response = await Http.PostRawAsync(client, new byte[UploadLimit]);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.UnsupportedMediaType));
    }

    [Test]
    public async Task AnEndlessUploadIsCutAtTheLimit()
    {
        // No Content-Length and no end: the server must answer without reading it all.
        var body = new EndlessStream();
        var content = new StreamContent(body);
        using var response = await client.PostAsync("/captions", content);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
        TestContext.Out.WriteLine($"the client sent {body.Served} bytes for a limit of {UploadLimit}");
        // The test server's pipe buffers ahead of the reader; what matters is that the reading stopped near the limit.
        Assert.That(body.Served, Is.LessThan(UploadLimit + 1024 * 1024), "bytes the client had to send");
    }

    [Test]
    public async Task AContentLengthOverTheLimitIs413BeforeTheBodyIsRead()
    {
        var body = new EndlessStream();
        var content = new StreamContent(body);
        content.Headers.ContentLength = 1L << 40;
        using var response = await client.PostAsync("/captions", content);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
        Assert.That(await Http.DetailAsync(response), Does.Contain("Content-Length is 1099511627776 bytes"));
        Assert.That(body.Served, Is.LessThan(1024 * 1024), "the server did not read the body");
    }

    [Test]
    public async Task AMultipartFileOverTheLimitIs413()
    {
        using var response = await Http.PostFormAsync(client, new byte[UploadLimit + 1]);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
    }

    [Test]
    public async Task AFormWithoutAFileIs400()
    {
        using var form = new MultipartFormDataContent { { new StringContent("no image here"), "note" } };
        using var response = await client.PostAsync("/captions", form);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await Http.DetailAsync(response), Does.Contain("has no file part"));
    }

    [Test]
    public async Task TextIs415NamingTheBytes()
    {
        using var response = await Http.PostRawAsync(client, "hello, server"u8.ToArray(), contentType: "text/plain");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.UnsupportedMediaType));
        Assert.That(await Http.DetailAsync(response), Does.Contain("unrecognised image format (first bytes 68656C6C6F2C2073)"));
    }

    [Test]
    public async Task ATiffIs415()
    {
        using var response = await Http.PostRawAsync(client, [(byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0, 0, 0]);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.UnsupportedMediaType));
        Assert.That(await Http.DetailAsync(response), Does.Contain("Tiff images are not supported"));
    }

    [Test]
    public async Task AnEmptyBodyIs400()
    {
        using var response = await Http.PostRawAsync(client, []);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await Http.DetailAsync(response), Does.Contain("the body is empty"));
    }

    [Test]
    public async Task AHeaderClaiming60000x60000Is400BeforeAnyPixelBuffer()
    {
        var png = Png(60000, 60000);
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        using var response = await Http.PostRawAsync(client, png, contentType: "image/png");
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await Http.DetailAsync(response), Does.Contain("60000x60000 = 3600000000 pixels exceeds the limit"));
        // Its RGBA buffer would be 14.4 GB; the request's whole cost is the upload and the answer.
        Assert.That(allocated, Is.LessThan(16L * 1024 * 1024), "bytes allocated while the request ran");
    }

    [Test]
    public async Task ATruncatedImageIs400()
    {
        var jpeg = Jpeg(64);
        using var response = await Http.PostRawAsync(client, jpeg[..(jpeg.Length * 2 / 3)]);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await Http.DetailAsync(response), Does.Contain("truncated").And.Contain("Cannot decode image 'upload'"));
    }

    [Test]
    public async Task ATruncatedPngIs400()
    {
        var png = Png(64, 64, noise: true);
        using var response = await Http.PostRawAsync(client, png[..(png.Length / 2)], contentType: "image/png");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await Http.DetailAsync(response), Does.Contain("PNG"));
    }

    [Test]
    public async Task ManyBadRequestsAtOnceLeaveNoTrace()
    {
        var png = Png(60000, 60000);
        var jpeg = Jpeg(64);
        var requests = Enumerable.Range(0, 40).Select(async i =>
        {
            using var response = (i % 4) switch
            {
                0 => await Http.PostRawAsync(client, png),
                1 => await Http.PostRawAsync(client, jpeg[..(jpeg.Length / 2)]),
                2 => await Http.PostRawAsync(client, "<html>"u8.ToArray()),
                _ => await Http.PostRawAsync(client, jpeg, "?unknown=1"),
            };
            return response.StatusCode;
        });
        var statuses = await Task.WhenAll(requests);
        Assert.That(statuses.Distinct(), Is.EquivalentTo(new[] { HttpStatusCode.BadRequest, HttpStatusCode.UnsupportedMediaType }));
        var queue = await Http.QueueAsync(client);
        Assert.That(queue.GetProperty("waiting").GetInt32(), Is.EqualTo(0), "bad input never reaches the queue");
        Assert.That(queue.GetProperty("failed").GetInt64(), Is.EqualTo(0));
    }

    // A 64x64 JPEG of a synthetic gradient, large enough that cutting it cuts its scan data.
    private static byte[] Jpeg(int side)
    {
        var rgb = new byte[side * side * 3];
        for (var i = 0; i < rgb.Length; i++) rgb[i] = (byte)(i * 7 % 251);
        return JpegEncoder.Encode(rgb, side, side);
    }

    // A PNG whose header declares width x height; its data is only a few rows' worth, as a hostile upload's would be.
    private static byte[] Png(int width, int height, bool noise = false)
    {
        var random = new Random(5);
        using var output = new MemoryStream();
        output.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth
        header[9] = 2; // RGB
        Chunk(output, "IHDR", header);
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            for (var row = 0; row < Math.Min(height, 64); row++)
            {
                // Filter byte 0, then the row's pixels: noise does not compress, so half the file is half the rows.
                var line = new byte[1 + Math.Min(width, 64) * 3];
                if (noise) random.NextBytes(line.AsSpan(1));
                zlib.Write(line);
            }
        Chunk(output, "IDAT", compressed.ToArray());
        Chunk(output, "IEND", []);
        return output.ToArray();

        static void Chunk(Stream stream, string type, byte[] data)
        {
            var length = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
            stream.Write(length);
            var typed = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
            stream.Write(typed);
            var crc = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32.HashToUInt32(typed));
            stream.Write(crc);
        }
    }

    // A body that never ends, counting what was taken from it.
    private sealed class EndlessStream : Stream
    {
        private long served;

        public long Served => Interlocked.Read(ref served);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Served; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            Array.Fill(buffer, (byte)0xFF, offset, count);
            Interlocked.Add(ref served, count);
            return count;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
