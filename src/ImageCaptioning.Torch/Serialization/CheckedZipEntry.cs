using System.IO.Compression;
using System.IO.Hashing;

namespace ImageCaptioning.Torch.Serialization;

/// <summary>
/// Reads one zip entry of a checkpoint without trusting its header: a size is checked before anything is allocated
/// or inflated, reading stops at the size the reader expects (the inflated stream may hold more than the header
/// says), and the CRC-32 of the bytes read is compared with the central directory's as they stream by.
/// </summary>
internal sealed class CheckedZipEntry : Stream
{
    /// <summary>
    /// The most an entry may inflate beyond its compressed size. torch.save stores entries uncompressed; a re-zipped
    /// checkpoint of real weights compresses to within a few times its size, while a deflate bomb reaches 1000.
    /// </summary>
    internal const long MaxCompressionRatio = 100;

    /// <summary>Entries up to this size inflate at any ratio: an all-zero buffer compresses far but costs nothing.</summary>
    internal const long AnyRatioBytes = 1 << 20;

    private readonly string path;
    private readonly ZipArchiveEntry entry;
    private readonly Stream inner;
    private readonly Crc32 crc = new();
    private readonly long length;
    private long remaining;
    private bool verified;

    private CheckedZipEntry(string path, ZipArchiveEntry entry, long length)
    {
        this.path = path;
        this.entry = entry;
        this.length = length;
        remaining = length;
        inner = entry.Open();
    }

    /// <summary>Opens <paramref name="entry"/>, which must hold exactly <paramref name="expectedLength"/> bytes.</summary>
    internal static CheckedZipEntry Open(string path, ZipArchiveEntry entry, long expectedLength, string? key = null)
    {
        if (entry.Length != expectedLength)
            throw new TensorFileException(path, key, $"the record {entry.FullName} holds {entry.Length} bytes but {expectedLength} are needed");
        CheckRatio(path, entry, key);
        return new CheckedZipEntry(path, entry, expectedLength);
    }

    /// <summary>Opens <paramref name="entry"/>, whose size the reader does not know, if it is at most <paramref name="limit"/> bytes.</summary>
    internal static CheckedZipEntry OpenBounded(string path, ZipArchiveEntry entry, long limit, string why)
    {
        if (entry.Length > limit)
            throw new TensorFileException(path, null, $"{entry.FullName} is {entry.Length} bytes, more than the limit of {limit} ({why})");
        CheckRatio(path, entry, null);
        return new CheckedZipEntry(path, entry, entry.Length);
    }

    private static void CheckRatio(string path, ZipArchiveEntry entry, string? key)
    {
        if (entry.Length > AnyRatioBytes && entry.Length / MaxCompressionRatio > entry.CompressedLength)
            throw new TensorFileException(path, key,
                $"{entry.FullName} would inflate from {entry.CompressedLength} to {entry.Length} bytes, more than {MaxCompressionRatio} times: " +
                "torch.save stores entries uncompressed, so this is a decompression bomb or a corrupt archive");
    }

    /// <summary>Reads the whole entry into a new array.</summary>
    internal byte[] ReadAll()
    {
        var bytes = new byte[length];
        ReadExactly(bytes);
        Verify();
        return bytes;
    }

    public override int Read(Span<byte> buffer)
    {
        if (remaining == 0)
        {
            Verify();
            return 0;
        }
        var read = inner.Read(buffer[..(int)Math.Min(buffer.Length, remaining)]);
        if (read == 0)
            throw new TensorFileException(path, null, $"{entry.FullName} ends after {length - remaining} of its {length} bytes: the archive is truncated or corrupt");
        crc.Append(buffer[..read]);
        remaining -= read;
        if (remaining == 0) Verify();
        return read;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    // Once the expected bytes are in: the entry must end there and its CRC-32 must be the central directory's.
    private void Verify()
    {
        if (verified) return;
        verified = true;
        Span<byte> probe = stackalloc byte[1];
        if (inner.Read(probe) != 0)
            throw new TensorFileException(path, null, $"{entry.FullName} inflates past the {length} bytes its header declares: the archive is corrupt");
        var found = crc.GetCurrentHashAsUInt32();
        if (found != entry.Crc32)
            throw new TensorFileChecksumException(path, entry.FullName, entry.Crc32, found);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => length;
    public override long Position { get => length - remaining; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
