using System.Text.Json;
using ImageCaptioning.IO;

namespace ImageCaptioning.Features;

// store.json: the commit record. Rows and ids beyond what it counts are uncommitted and ignored.
public sealed partial class FeatureStore
{
    private const string FormatName = "ImageCaptioning.FeatureStore";
    private const int LegacyVersion = 1;
    private const int FormatVersion = 2;
    private const string DigestKey = "sha256";

    // Each index entry is about 70 bytes; this keeps store.json far below JsonFile.MaxBytes.
    private const int MaxChunks = 100_000;

    private static readonly JsonSerializerOptions IndexJson = JsonFile.Strict(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
    });

    /// <summary>
    /// The committed state. <paramref name="RowsSha256"/> holds the SHA-256 of each chunk of <paramref name="ChunkRows"/>
    /// rows (the last one of the rows it has so far); it and <paramref name="IdsSha256"/> are null only in a version-1
    /// store opened for reading with <see cref="FeatureStoreIntegrity.AllowLegacy"/>.
    /// </summary>
    private sealed record Index(int Dimension, int Count, long IdsBytes, string? Extractor, string? Preprocessing, string? IdsSha256,
        int ChunkRows, string[]? RowsSha256)
    {
        public int ChunkCount => (int)(((long)Count + ChunkRows - 1) / ChunkRows);

        public bool Verified => RowsSha256 is not null && IdsSha256 is not null;
    }

    // The file's shape, read strictly: a key it does not have, of another casing or given twice is an error naming it.
    private sealed class IndexDocument
    {
        public string? Format { get; set; }
        public int? Version { get; set; }
        public string? Dtype { get; set; }
        public int? Dimension { get; set; }
        public int? Count { get; set; }
        public long? IdsBytes { get; set; }
        public int? ChunkRows { get; set; }
        public string? Extractor { get; set; }
        public string? Preprocessing { get; set; }
        public string? Features { get; set; }
        public string? Ids { get; set; }
        public string? IdsSha256 { get; set; }
        public string[]? RowsSha256 { get; set; }
        public string? Sha256 { get; set; }
    }

    private static int ChunkRowsFor(int dimension, long chunkBytes) =>
        (int)Math.Clamp(chunkBytes / ((long)dimension * sizeof(float)), 1, int.MaxValue);

    private static void WriteIndex(string path, Index index)
    {
        if (!index.Verified) throw new InvalidOperationException("an index without digests is never written");
        var document = new IndexDocument
        {
            Format = FormatName, Version = FormatVersion, Dtype = "float32", Dimension = index.Dimension, Count = index.Count,
            IdsBytes = index.IdsBytes, ChunkRows = index.ChunkRows, Extractor = index.Extractor, Preprocessing = index.Preprocessing,
            Features = FeaturesFileName, Ids = IdsFileName, IdsSha256 = index.IdsSha256, RowsSha256 = index.RowsSha256,
        };
        document.Sha256 = FileDigest.JsonSha256(JsonSerializer.SerializeToUtf8Bytes(document, IndexJson), DigestKey);
        AtomicFile.Write(path, stream => JsonSerializer.Serialize(stream, document, IndexJson));
    }

    private static Index ReadIndex(string path, FeatureStoreIntegrity integrity)
    {
        byte[] bytes;
        try
        {
            bytes = JsonFile.ReadBytes(path, "feature store index");
        }
        catch (FileNotFoundException e)
        {
            throw new FeatureStoreException(path, "the store index is missing: this folder is not a feature store", e);
        }
        catch (InvalidDataException e)
        {
            throw Refused(path, e);
        }

        IndexDocument document;
        try
        {
            document = JsonFile.Parse<IndexDocument>(bytes, path, IndexJson, "feature store index");
        }
        catch (InvalidDataException e)
        {
            throw Refused(path, e);
        }

        if (document.Format != FormatName)
            throw new FeatureStoreException(path, $"not a feature store index (expected \"format\": \"{FormatName}\")");
        var version = Required(document.Version, "version", path);
        if (version is not (LegacyVersion or FormatVersion))
            throw new FeatureStoreException(path, $"store format version {version} is not supported (this library reads versions {LegacyVersion} and {FormatVersion})");
        if (document.Dtype != "float32")
            throw new FeatureStoreException(path, $"'dtype' is {Describe(document.Dtype)}; only float32 stores are supported");
        if (document.Features is { } features && features != FeaturesFileName)
            throw new FeatureStoreException(path, $"'features' is '{features}'; a store's features are in {FeaturesFileName}");
        if (document.Ids is { } idsName && idsName != IdsFileName)
            throw new FeatureStoreException(path, $"'ids' is '{idsName}'; a store's ids are in {IdsFileName}");
        var dimension = Required(document.Dimension, "dimension", path);
        var count = Required(document.Count, "count", path);
        var idsBytes = Required(document.IdsBytes, "idsBytes", path);
        if (dimension < 1 || count < 0 || idsBytes < 0 || (count == 0) != (idsBytes == 0))
            throw new FeatureStoreException(path, $"inconsistent index: dimension {dimension}, count {count}, idsBytes {idsBytes}");
        if (document.IdsSha256 is { } ids && !FileDigest.IsSha256(ids))
            throw new FeatureStoreException(path, $"'idsSha256' is '{ids}', not a SHA-256 of 64 lower-case hex digits");

        if (version == LegacyVersion)
        {
            if (integrity != FeatureStoreIntegrity.AllowLegacy)
                throw new FeatureStoreException(path, "a version-1 store records no digest of its rows, so nothing shows that features.npy is as it was " +
                    $"written; if it is, open it once for writing with {nameof(FeatureStoreOptions)}.{nameof(FeatureStoreOptions.Integrity)} = " +
                    $"{nameof(FeatureStoreIntegrity)}.{nameof(FeatureStoreIntegrity.AllowLegacy)}, which records them");
            foreach (var (key, present) in new[] { ("chunkRows", document.ChunkRows is not null), ("rowsSha256", document.RowsSha256 is not null), (DigestKey, document.Sha256 is not null) })
                if (present) throw new FeatureStoreException(path, $"'{key}' is a version-{FormatVersion} key, but the index says it is version {LegacyVersion}");
            return new Index(dimension, count, idsBytes, document.Extractor, document.Preprocessing, document.IdsSha256,
                ChunkRowsFor(dimension, new FeatureStoreOptions().DigestChunkBytes), null);
        }

        var recorded = RequiredObject(document.Sha256, DigestKey, path);
        var actual = FileDigest.JsonSha256(bytes, DigestKey);
        if (actual != recorded)
            throw new FeatureStoreException(path, $"the index's SHA-256 is {actual} but its '{DigestKey}' records {recorded}: store.json was changed or damaged after its commit");
        var idsSha256 = RequiredObject(document.IdsSha256, "idsSha256", path);
        var chunkRows = Required(document.ChunkRows, "chunkRows", path);
        var rows = RequiredObject(document.RowsSha256, "rowsSha256", path);
        if (chunkRows < 1) throw new FeatureStoreException(path, $"'chunkRows' is {chunkRows}; it must be at least 1");
        var index = new Index(dimension, count, idsBytes, document.Extractor, document.Preprocessing, idsSha256, chunkRows, rows);
        if (rows.Length != index.ChunkCount)
            throw new FeatureStoreException(path, $"'rowsSha256' has {rows.Length} digests but {count} rows in chunks of {chunkRows} need {index.ChunkCount}");
        for (var i = 0; i < rows.Length; i++)
            if (!FileDigest.IsSha256(rows[i]))
                throw new FeatureStoreException(path, $"'rowsSha256[{i}]' is {Describe(rows[i])}, not a SHA-256 of 64 lower-case hex digits");
        return index;
    }

    // JsonFile's messages start with the path, which FeatureStoreException adds itself.
    private static FeatureStoreException Refused(string path, InvalidDataException e) =>
        new(path, e.Message.StartsWith(path + ": ", StringComparison.Ordinal) ? e.Message[(path.Length + 2)..] : e.Message, e);

    private static T Required<T>(T? value, string name, string path) where T : struct =>
        value ?? throw new FeatureStoreException(path, $"the index lacks \"{name}\"");

    private static T RequiredObject<T>(T? value, string name, string path) where T : class =>
        value ?? throw new FeatureStoreException(path, $"the index lacks \"{name}\"");

    private static string Describe(string? value) => value is null ? "missing or null" : $"'{value}'";
}
