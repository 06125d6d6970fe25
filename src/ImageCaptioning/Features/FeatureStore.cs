using System.Collections.ObjectModel;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using ImageCaptioning.Data;
using ImageCaptioning.IO;
using ImageCaptioning.Vision;

namespace ImageCaptioning.Features;

/// <summary>
/// Image features on disk, one float32 row per image id, read through memory maps (so a store may exceed the RAM)
/// and written incrementally so that an interrupted extraction resumes where it stopped.
/// </summary>
/// <remarks>
/// <para>A store is a folder of three files, readable from Python without this library:</para>
/// <list type="bullet">
/// <item><c>features.npy</c>: NumPy format 1.0, C-order little-endian float32 <c>[N, D]</c>, header padded to
/// 128 bytes (<c>numpy.load(path, mmap_mode='r')</c>).</item>
/// <item><c>ids.txt</c>: UTF-8, one image id per line (each ending in <c>\n</c>), line i naming row i.</item>
/// <item><c>store.json</c>: the commit record: <c>dimension</c>, committed row <c>count</c>, <c>idsBytes</c> (the
/// committed length of ids.txt), <c>idsSha256</c> (the SHA-256 of those bytes, which opening checks), <c>rowsSha256</c>
/// (the SHA-256 of each chunk of <c>chunkRows</c> rows, each checked when a row of it is first read), the
/// <c>extractor</c> name, the <c>preprocessing</c> the features were made with, and <c>sha256</c>, its own digest.</item>
/// </list>
/// <para>
/// An append writes its rows and ids after the committed ones, flushes them, then replaces <c>store.json</c>
/// atomically (temp file and rename): that replacement is the commit. A process killed at any moment therefore
/// leaves the previous commit intact plus, at worst, an uncommitted tail, which opening ignores and a writable
/// open truncates. The npy header's row count is updated after the commit and repaired on open.
/// </para>
/// <para>
/// One writer at a time (a writable open takes an exclusive lock on <c>store.lock</c>); any number of readers.
/// Reads are thread-safe, also while the same instance appends.
/// </para>
/// </remarks>
public sealed partial class FeatureStore : IFeatureSource, IDisposable
{
    /// <summary>The feature matrix file.</summary>
    public const string FeaturesFileName = "features.npy";

    /// <summary>The image id list file.</summary>
    public const string IdsFileName = "ids.txt";

    /// <summary>The commit record file.</summary>
    public const string IndexFileName = "store.json";

    /// <summary>The writer lock file.</summary>
    public const string LockFileName = "store.lock";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly List<string> ids;
    private readonly Dictionary<string, int> rowsById;
    private readonly ReaderWriterLockSlim mapLock = new(LockRecursionPolicy.NoRecursion);
    private readonly FileStream? lockFile;
    private readonly FileStream? featuresWriter;
    private readonly FileStream? idsWriter;
    private readonly int dataOffset;
    // The writer's running SHA-256 of the committed ids, so that a commit hashes only the ids it adds.
    private IncrementalHash idsHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    // The writer's running SHA-256 of the rows of the last chunk, which each commit extends until the chunk is full.
    private IncrementalHash tailHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    // Chunks whose rows matched their digest since they were mapped; replaced, not resized, under the write lock.
    private bool[] verifiedChunks;
    private Index index;
    private MappedRows? mapped;
    private bool disposed;

    private FeatureStore(string directory, Index index, List<string> ids, int dataOffset, FeatureStoreOptions options,
        FileStream? lockFile, FileStream? featuresWriter, FileStream? idsWriter)
    {
        Directory = directory;
        this.index = index;
        this.ids = ids;
        this.dataOffset = dataOffset;
        Options = options;
        this.lockFile = lockFile;
        this.featuresWriter = featuresWriter;
        this.idsWriter = idsWriter;
        verifiedChunks = new bool[index.ChunkCount];
        rowsById = new Dictionary<string, int>(ids.Count, StringComparer.Ordinal);
        for (var i = 0; i < ids.Count; i++) rowsById.Add(ids[i], i);
        ImageIds = new ReadOnlyCollection<string>(ids);
    }

    /// <summary>The store's folder.</summary>
    public string Directory { get; }

    /// <summary>Mapping and flushing settings.</summary>
    public FeatureStoreOptions Options { get; }

    /// <inheritdoc />
    public int Dimension => index.Dimension;

    /// <summary>Committed rows.</summary>
    public int Count => index.Count;

    /// <summary>The extractor the features come from (<see cref="IFeatureExtractor.Name"/>), if recorded.</summary>
    public string? Extractor => index.Extractor;

    /// <summary>The preprocessing the features were made with (<see cref="FeatureExtractorOptions.DescribePreprocessing"/>), if recorded.</summary>
    public string? Preprocessing => index.Preprocessing;

    /// <summary>Whether this instance only reads (<see cref="Open"/>).</summary>
    public bool IsReadOnly => featuresWriter is null;

    /// <summary>The committed image ids, row by row. It grows as this instance appends.</summary>
    public IReadOnlyList<string> ImageIds { get; }

    /// <summary>Path of <c>features.npy</c>.</summary>
    public string FeaturesPath => Path.Combine(Directory, FeaturesFileName);

    /// <summary>Path of <c>ids.txt</c>.</summary>
    public string IdsPath => Path.Combine(Directory, IdsFileName);

    /// <summary>Path of <c>store.json</c>.</summary>
    public string IndexPath => Path.Combine(Directory, IndexFileName);

    /// <summary>
    /// Opens an existing store for reading; uncommitted rows are ignored (and left in place). The index and the ids are
    /// checked against their digests now, each chunk of rows the first time one of its rows is read (or all by
    /// <see cref="Verify"/>).
    /// </summary>
    /// <exception cref="FeatureStoreException">A file is missing, malformed, truncated, inconsistent or differs from its digest; the message names it.</exception>
    public static FeatureStore Open(string directory, FeatureStoreOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        CheckPlatform();
        directory = Path.GetFullPath(directory);
        options ??= new FeatureStoreOptions();
        var index = ReadIndex(Path.Combine(directory, IndexFileName), options.Integrity);
        using var features = OpenExisting(Path.Combine(directory, FeaturesFileName), FileAccess.Read);
        var dataOffset = CheckFeatures(features, Path.Combine(directory, FeaturesFileName), index);
        using var idsFile = OpenExisting(Path.Combine(directory, IdsFileName), FileAccess.Read);
        var (ids, _) = ReadIds(idsFile, Path.Combine(directory, IdsFileName), index);
        return new FeatureStore(directory, index, ids, dataOffset, options, null, null, null);
    }

    /// <summary>
    /// Opens the store in <paramref name="directory"/> for appending, creating it when the folder holds none. An
    /// existing store must have <paramref name="dimension"/> columns and, when given and recorded, the same
    /// <paramref name="extractor"/> and <paramref name="preprocessing"/>. Rows or ids past the last commit (a run
    /// killed mid-append) are truncated. The index, the ids and the rows of the last chunk, which appends extend, are
    /// checked against their digests now; the other rows as <see cref="Open"/> checks them.
    /// </summary>
    /// <exception cref="FeatureStoreException">The existing store is malformed, truncated or does not match; the message names the file.</exception>
    /// <exception cref="IOException">Another writer has the store open.</exception>
    public static FeatureStore OpenOrCreate(string directory, int dimension, string? extractor = null, string? preprocessing = null,
        FeatureStoreOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        CheckPlatform();
        directory = Path.GetFullPath(directory);
        options ??= new FeatureStoreOptions();
        System.IO.Directory.CreateDirectory(directory);
        var indexPath = Path.Combine(directory, IndexFileName);
        var featuresPath = Path.Combine(directory, FeaturesFileName);
        var idsPath = Path.Combine(directory, IdsFileName);

        FileStream lockFile;
        try
        {
            lockFile = new FileStream(Path.Combine(directory, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new IOException($"the feature store {directory} is open for writing elsewhere ({LockFileName} is locked)", e);
        }

        FileStream? features = null, idsFile = null;
        try
        {
            Index index;
            if (!File.Exists(indexPath))
            {
                index = new Index(dimension, 0, 0, extractor, preprocessing, FileDigest.Sha256([]), ChunkRowsFor(dimension, options.DigestChunkBytes), []);
                Create(directory, index);
            }
            else
            {
                index = ReadIndex(indexPath, options.Integrity);
                if (index.Dimension != dimension)
                    throw new FeatureStoreException(indexPath, $"the store holds {index.Dimension}-d features but {dimension}-d were asked for");
                if (extractor is not null && index.Extractor is not null && extractor != index.Extractor)
                    throw new FeatureStoreException(indexPath, $"the store holds features of '{index.Extractor}', not '{extractor}'; use another folder");
                if (preprocessing is not null && index.Preprocessing is not null && preprocessing != index.Preprocessing)
                    throw new FeatureStoreException(indexPath, $"the store's features were made with the preprocessing '{index.Preprocessing}', not '{preprocessing}'; use another folder");
            }

            features = OpenExisting(featuresPath, FileAccess.ReadWrite);
            var dataOffset = CheckFeatures(features, featuresPath, index);
            idsFile = OpenExisting(idsPath, FileAccess.ReadWrite);
            var (ids, idsBytes) = ReadIds(idsFile, idsPath, index);
            if (!index.Verified)
            {
                // A version-1 store, accepted by AllowLegacy: its digests record the files as they are now, and later
                // opens check them.
                index = index with { IdsSha256 = index.IdsSha256 ?? FileDigest.Sha256(idsBytes), RowsSha256 = DigestRows(features, featuresPath, dataOffset, index) };
                WriteIndex(indexPath, index);
            }

            // Drop the uncommitted tail of an interrupted append, and bring the npy header up to the commit.
            var rowBytes = (long)index.Dimension * sizeof(float);
            features.SetLength(dataOffset + index.Count * rowBytes);
            idsFile.SetLength(index.IdsBytes);
            WriteHeader(features, index.Count, index.Dimension, dataOffset);
            features.Flush(flushToDisk: true);
            var store = new FeatureStore(directory, index, ids, dataOffset, options, lockFile, features, idsFile);
            try
            {
                store.RestartTailHash(features, index);
            }
            catch
            {
                store.Dispose();
                throw;
            }

            store.idsHash.AppendData(idsBytes);
            features.Position = features.Length;
            idsFile.Position = idsFile.Length;
            return store;
        }
        catch
        {
            features?.Dispose();
            idsFile?.Dispose();
            lockFile.Dispose();
            throw;
        }
    }

    /// <summary>Opens or creates a store for the features of <paramref name="extractor"/> (its dimension, name and preprocessing).</summary>
    /// <exception cref="FeatureStoreException">The existing store is malformed or holds other features; the message names the file.</exception>
    public static FeatureStore OpenOrCreate(string directory, IFeatureExtractor extractor, FeatureStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(extractor);
        return OpenOrCreate(directory, extractor.Dimension, extractor.Name, extractor.Options.DescribePreprocessing(), options);
    }

    /// <summary>Whether <paramref name="imageId"/> has a committed row.</summary>
    public bool Contains(string imageId)
    {
        ArgumentNullException.ThrowIfNull(imageId);
        mapLock.EnterReadLock();
        try { return rowsById.ContainsKey(imageId); }
        finally { mapLock.ExitReadLock(); }
    }

    /// <inheritdoc />
    public bool TryGetRow(string imageId, out int row)
    {
        ArgumentNullException.ThrowIfNull(imageId);
        mapLock.EnterReadLock();
        try { return rowsById.TryGetValue(imageId, out row); }
        finally { mapLock.ExitReadLock(); }
    }

    /// <inheritdoc />
    public void Read(int row, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        if (destination.Length != Dimension)
            throw new ArgumentException($"a row has {Dimension} floats but the destination holds {destination.Length}", nameof(destination));
        mapLock.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, index.Count);
            var chunk = row / index.ChunkRows;
            if (mapped is { } current && row < current.Count && (!NeedsCheck(chunk) || ChunkEnd(chunk) <= current.Count))
            {
                if (NeedsCheck(chunk)) VerifyChunk(current, chunk);
                current.Read(row, destination);
                return;
            }
        }
        finally
        {
            mapLock.ExitReadLock();
        }

        // The rows grew since the file was mapped: map it again. The read stays under the write lock so that no
        // other thread can replace (and unmap) the new mapping while it is copied from.
        mapLock.EnterWriteLock();
        try
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            var rows = MapCommitted();
            var chunk = row / index.ChunkRows;
            if (NeedsCheck(chunk)) VerifyChunk(rows, chunk);
            rows.Read(row, destination);
        }
        finally
        {
            mapLock.ExitWriteLock();
        }
    }

    /// <summary>
    /// Appends one row per id and commits them: after this returns the rows survive a crash; if it throws (or the
    /// process dies inside it) the store still opens at its previous commit.
    /// </summary>
    /// <param name="imageIds">New ids: non-empty, without line breaks, not yet in the store, distinct.</param>
    /// <param name="rows">Row-major <c>[imageIds.Count, Dimension]</c> values.</param>
    public void Append(IReadOnlyList<string> imageIds, ReadOnlySpan<float> rows)
    {
        ArgumentNullException.ThrowIfNull(imageIds);
        ObjectDisposedException.ThrowIf(disposed, this);
        if (IsReadOnly) throw new InvalidOperationException($"the feature store {Directory} was opened read-only; use OpenOrCreate to append");
        if (rows.Length != (long)imageIds.Count * Dimension)
            throw new ArgumentException($"{imageIds.Count} ids need {(long)imageIds.Count * Dimension} values ({Dimension} per row) but {rows.Length} were given", nameof(rows));
        if (imageIds.Count == 0) return;
        var idBytes = EncodeIds(imageIds);

        var featuresStream = featuresWriter!;
        var idsStream = idsWriter!;
        var rowBytes = (long)Dimension * sizeof(float);
        var committed = index;
        if (((long)committed.Count + imageIds.Count + committed.ChunkRows - 1) / committed.ChunkRows > MaxChunks)
            throw new InvalidOperationException($"the store {Directory} would need more than {MaxChunks} row digests in chunks of {committed.ChunkRows} rows; " +
                $"create it with a larger {nameof(FeatureStoreOptions)}.{nameof(FeatureStoreOptions.DigestChunkBytes)}");
        try
        {
            featuresStream.Position = dataOffset + committed.Count * rowBytes;
            featuresStream.Write(MemoryMarshal.AsBytes(rows));
            idsStream.Position = committed.IdsBytes;
            idsStream.Write(idBytes);
            featuresStream.Flush(Options.FlushToDisk);
            idsStream.Flush(Options.FlushToDisk);
        }
        catch
        {
            TryTruncate(featuresStream, dataOffset + committed.Count * rowBytes);
            TryTruncate(idsStream, committed.IdsBytes);
            throw;
        }

        idsHash.AppendData(idBytes);
        var next = committed with
        {
            Count = checked(committed.Count + imageIds.Count), IdsBytes = committed.IdsBytes + idBytes.Length,
            IdsSha256 = Convert.ToHexStringLower(idsHash.GetCurrentHash()),
            RowsSha256 = AppendRowDigests(MemoryMarshal.AsBytes(rows), committed),
        };
        try
        {
            WriteIndex(IndexPath, next); // the commit
        }
        catch
        {
            // Not committed: the running hashes must cover the committed ids and rows only again.
            idsHash.Dispose();
            idsHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            idsHash.AppendData(StrictUtf8.GetBytes(string.Concat(ids.Select(id => id + "\n"))));
            RestartTailHash(featuresStream, committed);
            throw;
        }

        mapLock.EnterWriteLock();
        try
        {
            foreach (var id in imageIds)
            {
                rowsById.Add(id, ids.Count);
                ids.Add(id);
            }

            verifiedChunks = CarryVerified(verifiedChunks, committed, next);
            index = next;
        }
        finally
        {
            mapLock.ExitWriteLock();
        }

        WriteHeader(featuresStream, next.Count, Dimension, dataOffset);
        featuresStream.Flush(flushToDisk: false);
    }

    /// <summary>Unmaps the file and releases the writer lock.</summary>
    public void Dispose()
    {
        mapLock.EnterWriteLock();
        try
        {
            if (disposed) return;
            disposed = true;
            mapped?.Dispose();
            mapped = null;
            featuresWriter?.Dispose();
            idsWriter?.Dispose();
            lockFile?.Dispose();
            idsHash.Dispose();
            tailHash.Dispose();
        }
        finally
        {
            mapLock.ExitWriteLock();
        }
    }

    /// <summary>Number of windows of <c>features.npy</c> mapped so far (for tests and diagnostics).</summary>
    internal int MappedViewCount
    {
        get
        {
            mapLock.EnterReadLock();
            try { return mapped?.MappedViews ?? 0; }
            finally { mapLock.ExitReadLock(); }
        }
    }

    private byte[] EncodeIds(IReadOnlyList<string> imageIds)
    {
        var batch = new HashSet<string>(StringComparer.Ordinal);
        var text = new StringBuilder();
        for (var i = 0; i < imageIds.Count; i++)
        {
            var id = imageIds[i];
            if (string.IsNullOrEmpty(id)) throw new ArgumentException($"image id {i} is null or empty", nameof(imageIds));
            if (id.AsSpan().IndexOfAny('\n', '\r') >= 0) throw new ArgumentException($"image id '{id}' contains a line break", nameof(imageIds));
            if (Contains(id)) throw new ArgumentException($"image '{id}' already has a row in the store {Directory}", nameof(imageIds));
            if (!batch.Add(id)) throw new ArgumentException($"image '{id}' appears twice in the batch", nameof(imageIds));
            text.Append(id).Append('\n');
        }

        return StrictUtf8.GetBytes(text.ToString());
    }

    private static void Create(string directory, Index index)
    {
        var featuresPath = Path.Combine(directory, FeaturesFileName);
        var idsPath = Path.Combine(directory, IdsFileName);
        // A folder with data but no index is not ours to overwrite (or its index was lost).
        foreach (var (path, emptyLength) in new[] { (featuresPath, (long)NpyHeader.Length), (idsPath, 0L) })
        {
            if (File.Exists(path) && new FileInfo(path).Length > emptyLength)
                throw new FeatureStoreException(path, $"the file holds data but {IndexFileName} is missing: this is not a feature store (or its index was lost); refusing to overwrite it");
        }

        using (var features = new FileStream(featuresPath, FileMode.Create, FileAccess.Write, FileShare.Read))
        {
            features.Write(NpyHeader.Build(0, index.Dimension));
            features.Flush(flushToDisk: true);
        }

        using (var idsFile = new FileStream(idsPath, FileMode.Create, FileAccess.Write, FileShare.Read))
            idsFile.Flush(flushToDisk: true);
        WriteIndex(Path.Combine(directory, IndexFileName), index);
    }

    private static FileStream OpenExisting(string path, FileAccess access)
    {
        try
        {
            return new FileStream(path, FileMode.Open, access, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException e)
        {
            throw new FeatureStoreException(path, "the file is missing", e);
        }
    }

    private static int CheckFeatures(FileStream features, string path, Index index)
    {
        var (_, columns, dataOffset) = NpyHeader.Read(features, path);
        if (columns != index.Dimension)
            throw new FeatureStoreException(path, $"the matrix has {columns} columns but {IndexFileName} says the dimension is {index.Dimension}");
        var rowBytes = (long)index.Dimension * sizeof(float);
        var available = (features.Length - dataOffset) / rowBytes;
        if (available < index.Count)
            throw new FeatureStoreException(path, $"the file is truncated: it holds {available} complete rows but {IndexFileName} commits {index.Count}");
        return dataOffset;
    }

    private static (List<string> Ids, byte[] Bytes) ReadIds(FileStream file, string path, Index index)
    {
        if (file.Length < index.IdsBytes)
            throw new FeatureStoreException(path, $"the file is truncated: {file.Length} bytes but {IndexFileName} commits {index.IdsBytes}");
        var bytes = new byte[index.IdsBytes];
        file.Position = 0;
        file.ReadExactly(bytes);
        string text;
        try
        {
            text = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new FeatureStoreException(path, "the committed ids are not valid UTF-8", e);
        }

        if (text.Length > 0 && text[^1] != '\n')
            throw new FeatureStoreException(path, "the committed ids do not end with a line break");
        var ids = new List<string>(index.Count);
        var firstLine = new Dictionary<string, int>(index.Count, StringComparer.Ordinal);
        var line = 0;
        foreach (var range in text.AsSpan().Split('\n'))
        {
            if (range.Start.Value == text.Length) break; // after the final line break
            line++;
            var id = text[range];
            if (id.Length == 0 || id.Contains('\r'))
                throw new FeatureStoreException(path, $"line {line}: an image id must be non-empty and on one line");
            if (!firstLine.TryAdd(id, line))
                throw new FeatureStoreException(path, $"line {line}: image '{id}' is already listed on line {firstLine[id]}");
            ids.Add(id);
        }

        if (ids.Count != index.Count)
            throw new FeatureStoreException(path, $"the committed part lists {ids.Count} ids but {IndexFileName} commits {index.Count} rows");
        // Checked after the structure, whose errors say more: this catches what keeps it, such as two ids swapped,
        // which would bind rows to the wrong images.
        if (index.IdsSha256 is { } expected && FileDigest.Sha256(bytes) is var actual && !string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
            throw new FeatureStoreException(path, $"the committed ids do not match: {FileDigest.MismatchReason(actual, expected, IndexFileName)}; " +
                "its rows would be read for the wrong images");
        return (ids, bytes);
    }

    private static void WriteHeader(FileStream features, long rows, int dimension, int dataOffset)
    {
        var end = features.Position;
        features.Position = 0;
        features.Write(NpyHeader.Build(rows, dimension, dataOffset));
        features.Position = end;
    }

    private static void TryTruncate(FileStream stream, long length)
    {
        try { stream.SetLength(length); }
        catch (IOException) { }
    }

    private static void CheckPlatform()
    {
        if (!MappedRows.LayoutSupported)
            throw new PlatformNotSupportedException("feature stores hold little-endian float32; this platform is big-endian");
    }
}
