using System.Text.Json;
using ImageCaptioning.IO;

namespace ImageCaptioning.Features;

// store.json: the commit record. Rows and ids beyond what it counts are uncommitted and ignored.
public sealed partial class FeatureStore
{
    private const string FormatName = "ImageCaptioning.FeatureStore";
    private const int FormatVersion = 1;

    // IdsSha256: the SHA-256 of the committed IdsBytes of ids.txt, binding each row to its id; null in stores written before it was recorded.
    private sealed record Index(int Dimension, int Count, long IdsBytes, string? Extractor, string? Preprocessing, string? IdsSha256);

    private static void WriteIndex(string path, Index index) => AtomicFile.Write(path, stream =>
    {
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("format", FormatName);
        json.WriteNumber("version", FormatVersion);
        json.WriteString("dtype", "float32");
        json.WriteNumber("dimension", index.Dimension);
        json.WriteNumber("count", index.Count);
        json.WriteNumber("idsBytes", index.IdsBytes);
        if (index.IdsSha256 is not null) json.WriteString("idsSha256", index.IdsSha256);
        json.WriteString("extractor", index.Extractor);
        json.WriteString("preprocessing", index.Preprocessing);
        json.WriteString("features", FeaturesFileName);
        json.WriteString("ids", IdsFileName);
        json.WriteEndObject();
    });

    private static Index ReadIndex(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException e)
        {
            throw new FeatureStoreException(path, "the store index is missing: this folder is not a feature store", e);
        }

        try
        {
            using var document = JsonDocument.Parse(bytes);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("format", out var format) || format.ValueKind != JsonValueKind.String || format.GetString() != FormatName)
                throw new FeatureStoreException(path, $"not a feature store index (expected \"format\": \"{FormatName}\")");
            var version = Required(root, "version", path).GetInt32();
            if (version != FormatVersion)
                throw new FeatureStoreException(path, $"store format version {version} is not supported (this library reads version {FormatVersion})");
            if (Required(root, "dtype", path).GetString() != "float32")
                throw new FeatureStoreException(path, "only float32 stores are supported");
            var dimension = Required(root, "dimension", path).GetInt32();
            var count = Required(root, "count", path).GetInt32();
            var idsBytes = Required(root, "idsBytes", path).GetInt64();
            if (dimension < 1 || count < 0 || idsBytes < 0 || (count == 0) != (idsBytes == 0))
                throw new FeatureStoreException(path, $"inconsistent index: dimension {dimension}, count {count}, idsBytes {idsBytes}");
            return new Index(dimension, count, idsBytes, OptionalString(root, "extractor"), OptionalString(root, "preprocessing"),
                OptionalString(root, "idsSha256"));
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            throw new FeatureStoreException(path, $"the store index is not valid JSON of the expected shape: {e.Message}", e);
        }
    }

    private static JsonElement Required(JsonElement root, string name, string path) =>
        root.TryGetProperty(name, out var value) ? value : throw new FeatureStoreException(path, $"the index lacks \"{name}\"");

    private static string? OptionalString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
