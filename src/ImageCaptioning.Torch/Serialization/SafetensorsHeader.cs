using System.Text;
using System.Text.Json;

namespace ImageCaptioning.Torch.Serialization;

/// <summary>One tensor described by a safetensors header.</summary>
/// <param name="Name">The tensor's key.</param>
/// <param name="DType">Its element type.</param>
/// <param name="Shape">Its sizes (empty for a scalar).</param>
/// <param name="Begin">Start of its bytes, relative to the data section that follows the header.</param>
/// <param name="End">End (exclusive) of its bytes, relative to the data section.</param>
public sealed record SafetensorsEntry(string Name, ScalarType DType, IReadOnlyList<long> Shape, long Begin, long End)
{
    /// <summary>Number of bytes the tensor occupies.</summary>
    public long ByteLength => End - Begin;
}

/// <summary>
/// The validated header of a safetensors file: the tensors in data order, the free-form metadata, and where the data
/// section starts in the file.
/// </summary>
public sealed class SafetensorsHeader
{
    /// <summary>safetensors' own limit on the JSON header, which keeps a corrupt length from allocating gigabytes.</summary>
    internal const long MaxHeaderLength = 100_000_000;

    internal const string MetadataKey = "__metadata__";

    private SafetensorsHeader(IReadOnlyList<SafetensorsEntry> entries, IReadOnlyDictionary<string, string> metadata, long dataStart)
    {
        Entries = entries;
        Metadata = metadata;
        DataStart = dataStart;
    }

    /// <summary>The tensors, ordered by their position in the data section.</summary>
    public IReadOnlyList<SafetensorsEntry> Entries { get; }

    /// <summary>The <c>__metadata__</c> strings; empty when the file has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>File offset of the data section (8 + the JSON header's length).</summary>
    public long DataStart { get; }

    /// <summary>Reads and validates the header of <paramref name="path"/>, without reading tensor data.</summary>
    internal static SafetensorsHeader Read(string path, FileStream file)
    {
        var fileLength = file.Length;
        if (fileLength < 8)
            throw new TensorFileException(path, null, $"the file is {fileLength} bytes long, too short for the 8-byte safetensors header length");
        Span<byte> lengthBytes = stackalloc byte[8];
        file.ReadExactly(lengthBytes);
        var headerLength = BitConverter.ToUInt64(lengthBytes);
        if (headerLength > MaxHeaderLength)
            throw new TensorFileException(path, null, $"the header length {headerLength} exceeds safetensors' limit of {MaxHeaderLength} bytes: not a safetensors file, or a corrupt one");
        if ((long)headerLength > fileLength - 8)
            throw new TensorFileException(path, null, $"the header length {headerLength} runs past the end of the {fileLength}-byte file: the file is truncated");
        if (headerLength < 2)
            throw new TensorFileException(path, null, $"the header length {headerLength} is too short for a JSON object");
        var json = new byte[headerLength];
        file.ReadExactly(json);
        var dataStart = 8 + (long)headerLength;
        return Parse(path, json, dataStart, fileLength - dataStart);
    }

    internal static SafetensorsHeader Parse(string path, byte[] json, long dataStart, long dataLength)
    {
        if (json[0] != (byte)'{')
            throw new TensorFileException(path, null, "the header does not start with '{': not a safetensors file");
        // JsonDocument checks the UTF-8 of values only when they are read, and then throws InvalidOperationException.
        if (!System.Text.Unicode.Utf8.IsValid(json))
            throw new TensorFileException(path, null, "the header is not valid UTF-8");
        JsonDocument document;
        try
        {
            // The specification allows trailing spaces as padding; JSON parsing ignores them.
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new TensorFileException(path, null, $"the header is not valid JSON: {e.Message}", e);
        }
        catch (DecoderFallbackException e)
        {
            throw new TensorFileException(path, null, "the header is not valid UTF-8", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new TensorFileException(path, null, "the header is not a JSON object");

            var seen = new HashSet<string>(StringComparer.Ordinal);
            var entries = new List<SafetensorsEntry>();
            IReadOnlyDictionary<string, string> metadata = new Dictionary<string, string>();
            foreach (var property in root.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw new TensorFileException(path, property.Name, "the key appears twice in the header");
                if (property.Name == MetadataKey)
                    metadata = ParseMetadata(path, property.Value);
                else
                    entries.Add(ParseEntry(path, property.Name, property.Value));
            }

            entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
            long expectedBegin = 0;
            foreach (var entry in entries)
            {
                if (entry.Begin != expectedBegin)
                    throw new TensorFileException(path, entry.Name, entry.Begin < expectedBegin
                        ? $"its data_offsets [{entry.Begin}, {entry.End}] overlap the previous tensor, which ends at {expectedBegin}"
                        : $"its data_offsets start at {entry.Begin} but the previous tensor ends at {expectedBegin}: the data is not contiguous");
                expectedBegin = entry.End;
            }
            if (expectedBegin != dataLength)
                throw new TensorFileException(path, null, expectedBegin > dataLength
                    ? $"the header describes {expectedBegin} bytes of tensor data but the file holds {dataLength} after the header: the file is truncated"
                    : $"the file holds {dataLength} bytes of tensor data but the header describes only {expectedBegin}");
            return new SafetensorsHeader(entries, metadata, dataStart);
        }
    }

    private static Dictionary<string, string> ParseMetadata(string path, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new TensorFileException(path, MetadataKey, "the metadata must be a JSON object of strings");
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new TensorFileException(path, MetadataKey, $"the metadata value of '{item.Name}' is a {item.Value.ValueKind}, not a string");
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                throw new TensorFileException(path, MetadataKey, $"the metadata key '{item.Name}' appears twice");
        }
        return metadata;
    }

    private static SafetensorsEntry ParseEntry(string path, string name, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new TensorFileException(path, name, "the header entry is not a JSON object");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new TensorFileException(path, name, "the header entry has no string 'dtype'");
        var dtypeName = dtypeElement.GetString()!;
        if (!TensorDTypes.TryParseSafetensorsName(dtypeName, out var dtype))
            throw new TensorFileException(path, name, $"the dtype '{dtypeName}' is not supported (supported: F32, F64, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
        var shape = ReadIntegers(path, name, value, "shape", expectedCount: null);
        var offsets = ReadIntegers(path, name, value, "data_offsets", expectedCount: 2);
        if (offsets[1] < offsets[0])
            throw new TensorFileException(path, name, $"its data_offsets [{offsets[0]}, {offsets[1]}] end before they begin");
        long byteLength;
        try { byteLength = TensorDTypes.CheckedByteLength(shape, dtype); }
        catch (OverflowException) { throw new TensorFileException(path, name, $"the shape [{string.Join(", ", shape)}] is too large"); }
        if (byteLength != offsets[1] - offsets[0])
            throw new TensorFileException(path, name,
                $"the shape [{string.Join(", ", shape)}] of {dtypeName} needs {byteLength} bytes but data_offsets [{offsets[0]}, {offsets[1]}] span {offsets[1] - offsets[0]}");
        return new SafetensorsEntry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] ReadIntegers(string path, string name, JsonElement entry, string property, int? expectedCount)
    {
        if (!entry.TryGetProperty(property, out var array) || array.ValueKind != JsonValueKind.Array)
            throw new TensorFileException(path, name, $"the header entry has no '{property}' array");
        var count = array.GetArrayLength();
        if (expectedCount is { } expected && count != expected)
            throw new TensorFileException(path, name, $"'{property}' has {count} values instead of {expected}");
        var values = new long[count];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var number) || number < 0)
                throw new TensorFileException(path, name, $"'{property}' holds {item.GetRawText()}, not a non-negative integer");
            values[i++] = number;
        }
        return values;
    }
}
