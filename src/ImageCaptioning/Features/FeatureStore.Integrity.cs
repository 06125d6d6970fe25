using System.Security.Cryptography;
using ImageCaptioning.IO;

namespace ImageCaptioning.Features;

// The rows' digests: one SHA-256 per chunk of ChunkRows rows, checked the first time a row of the chunk is read.
public sealed partial class FeatureStore
{
    private const int HashBufferBytes = 1 << 20;

    /// <summary>
    /// Whether the store's rows and ids are covered by digests: true except for a version-1 store opened for reading
    /// with <see cref="FeatureStoreIntegrity.AllowLegacy"/>.
    /// </summary>
    public bool IsVerified => index.Verified;

    /// <summary>
    /// Checks every committed row against the digests <c>store.json</c> records, reading the whole of
    /// <c>features.npy</c> once. Rows are checked anyway the first time their chunk is read; this finds damage before a
    /// long run starts instead of in its middle (the pipeline calls it before training).
    /// </summary>
    /// <exception cref="FeatureStoreException">Rows differ from their digest (the message names features.npy and the rows), or the store has no digests (<see cref="IsVerified"/> is false).</exception>
    public void Verify()
    {
        mapLock.EnterWriteLock();
        try
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (!index.Verified)
                throw new FeatureStoreException(IndexPath, "this version-1 store records no digests of its rows, so they cannot be verified; " +
                    "open it once for writing (FeatureStore.OpenOrCreate with FeatureStoreIntegrity.AllowLegacy) to record them");
            if (index.Count == 0) return;
            var rows = MapCommitted();
            for (var chunk = 0; chunk < index.ChunkCount; chunk++) VerifyChunk(rows, chunk);
        }
        finally
        {
            mapLock.ExitWriteLock();
        }
    }

    // Under the write lock: the mapping of every committed row.
    private MappedRows MapCommitted()
    {
        if (mapped is null || mapped.Count < index.Count)
        {
            mapped?.Dispose();
            mapped = null;
            mapped = new MappedRows(FeaturesPath, dataOffset, Dimension, index.Count, Options.ViewBytes);
        }

        return mapped;
    }

    private long ChunkEnd(int chunk) => Math.Min((long)(chunk + 1) * index.ChunkRows, index.Count);

    private bool NeedsCheck(int chunk) => index.Verified && !verifiedChunks[chunk];

    // Under a lock of mapLock, with every row of the chunk mapped. Two readers may check one chunk at once; both agree.
    private void VerifyChunk(MappedRows rows, int chunk)
    {
        var first = (long)chunk * index.ChunkRows;
        var count = (int)(ChunkEnd(chunk) - first);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        rows.AppendTo(hash, first, count);
        var actual = Convert.ToHexStringLower(hash.GetCurrentHash());
        var expected = index.RowsSha256![chunk];
        if (actual != expected)
            throw new FeatureStoreException(FeaturesPath, $"rows {first} to {first + count - 1} (rowsSha256[{chunk}]) do not match: " +
                FileDigest.MismatchReason(actual, expected, IndexFileName));
        verifiedChunks[chunk] = true;
    }

    // The digests after appending `bytes` (whole rows) to the committed ones, extending the running hash of the last chunk.
    private string[] AppendRowDigests(ReadOnlySpan<byte> bytes, Index committed)
    {
        var rowBytes = (long)committed.Dimension * sizeof(float);
        var digests = new List<string>(committed.RowsSha256!);
        var filled = committed.Count % committed.ChunkRows;
        if (filled != 0) digests.RemoveAt(digests.Count - 1);
        var offset = 0L;
        while (offset < bytes.Length)
        {
            var take = Math.Min((committed.ChunkRows - filled) * rowBytes, bytes.Length - offset);
            tailHash.AppendData(bytes.Slice((int)offset, (int)take));
            filled += (int)(take / rowBytes);
            offset += take;
            if (filled == committed.ChunkRows)
            {
                digests.Add(Convert.ToHexStringLower(tailHash.GetHashAndReset()));
                filled = 0;
            }
        }

        if (filled != 0) digests.Add(Convert.ToHexStringLower(tailHash.GetCurrentHash()));
        return [.. digests];
    }

    // The running hash of the committed rows of the last, partial chunk, read back from the file; refused when they
    // no longer match their digest, which the next commit would otherwise extend over damaged rows.
    private void RestartTailHash(FileStream features, Index committed)
    {
        tailHash.Dispose();
        tailHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var filled = committed.Count % committed.ChunkRows;
        if (filled == 0) return;
        HashFileRows(features, dataOffset, committed.Dimension, committed.Count - filled, filled, tailHash);
        var actual = Convert.ToHexStringLower(tailHash.GetCurrentHash());
        var expected = committed.RowsSha256![^1];
        if (actual != expected)
            throw new FeatureStoreException(FeaturesPath, $"rows {committed.Count - filled} to {committed.Count - 1} (rowsSha256[{committed.ChunkCount - 1}]) do not match: " +
                FileDigest.MismatchReason(actual, expected, IndexFileName));
    }

    // A version-1 store's rows as they are now, for the digests its first writable open records.
    private static string[] DigestRows(FileStream features, string path, int dataOffset, Index legacy)
    {
        var digests = new string[legacy.ChunkCount];
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (var chunk = 0; chunk < digests.Length; chunk++)
        {
            var first = (long)chunk * legacy.ChunkRows;
            HashFileRows(features, dataOffset, legacy.Dimension, first, Math.Min(legacy.ChunkRows, legacy.Count - first), hash);
            digests[chunk] = Convert.ToHexStringLower(hash.GetHashAndReset());
        }

        if (digests.Length > MaxChunks)
            throw new FeatureStoreException(path, $"the store needs {digests.Length} row digests, more than the {MaxChunks} an index holds");
        return digests;
    }

    private static void HashFileRows(FileStream features, long dataOffset, int dimension, long firstRow, long rows, IncrementalHash hash)
    {
        var rowBytes = (long)dimension * sizeof(float);
        features.Position = dataOffset + firstRow * rowBytes;
        var remaining = rows * rowBytes;
        var buffer = new byte[(int)Math.Min(HashBufferBytes, Math.Max(remaining, 1))];
        while (remaining > 0)
        {
            var take = (int)Math.Min(buffer.Length, remaining);
            features.ReadExactly(buffer, 0, take);
            hash.AppendData(buffer, 0, take);
            remaining -= take;
        }
    }

    // The flags of chunks whose digest the commit kept; the extended last chunk is checked again when next read.
    private static bool[] CarryVerified(bool[] verified, Index committed, Index next)
    {
        var carried = new bool[next.ChunkCount];
        for (var i = 0; i < committed.ChunkCount; i++)
            carried[i] = verified[i] && committed.RowsSha256![i] == next.RowsSha256![i];
        return carried;
    }
}
