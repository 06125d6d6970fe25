using System.IO.MemoryMappedFiles;
using System.Text.Json;

namespace ImageCaptioning.Torch.Serialization;

/// <summary>
/// Reads and writes the safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
/// header length, a JSON header naming each tensor's dtype, shape and byte range, then the raw little-endian data.
/// Python reads these files with <c>safetensors.torch.load_file</c>, or with nothing but <c>json</c> and
/// <c>struct</c>. Writes are atomic: a reader sees the old file or the new one, never a partial file.
/// </summary>
public static class Safetensors
{
    /// <summary>
    /// Writes <paramref name="tensors"/>, in their enumeration order, with optional string metadata. The tensors may
    /// live on any device and need not be contiguous.
    /// </summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var items = new List<PendingWrite>(tensors.Count);
        foreach (var (name, tensor) in tensors)
        {
            ArgumentNullException.ThrowIfNull(tensor, nameof(tensors));
            var dtype = tensor.dtype;
            var shape = tensor.shape;
            items.Add(new PendingWrite(name, dtype, shape, TensorDTypes.CheckedByteLength(shape, dtype), stream => TensorMemory.WriteBytes(tensor, stream)));
        }
        Write(path, items, metadata);
    }

    /// <summary>Writes tensors given as bytes, in order, with optional string metadata.</summary>
    public static void SaveRaw(string path, IEnumerable<RawTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var items = tensors.Select(t => new PendingWrite(t.Name, t.DType, t.Shape, t.Data.Length, stream => stream.Write(t.Data.Span))).ToList();
        Write(path, items, metadata);
    }

    /// <summary>
    /// Reads every tensor into memory of <paramref name="device"/> (the CPU by default), in file order. The file is
    /// memory-mapped, so no managed copy of the data is made. The caller owns the returned tensors.
    /// </summary>
    /// <exception cref="TensorFileException">The file is not a valid safetensors file; the message says why and where.</exception>
    public static unsafe StateDict Load(string path, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var target = device ?? torch.CPU;
        SafetensorsHeader header;
        using (var file = OpenRead(path)) header = SafetensorsHeader.Read(path, file);

        var loaded = new List<KeyValuePair<string, Tensor>>(header.Entries.Count);
        try
        {
            using var mapping = MapData(path, header, out var view);
            byte* pointer = null;
            try
            {
                if (view is not null)
                {
                    // A file truncated since its header was read would fault on access instead of failing cleanly.
                    var needed = header.DataStart + header.Entries[^1].End;
                    if (view.Capacity < needed)
                        throw new TensorFileException(path, null, $"the file shrank to {view.Capacity} bytes while being read; {needed} are needed");
                    view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
                }
                var data = pointer + (view?.PointerOffset ?? 0) + header.DataStart;
                foreach (var entry in header.Entries)
                    loaded.Add(new(entry.Name, TensorMemory.FromBytes(data + entry.Begin, entry.ByteLength, entry.DType, entry.Shape.ToArray(), target)));
            }
            finally
            {
                if (pointer != null) view!.SafeMemoryMappedViewHandle.ReleasePointer();
                view?.Dispose();
            }
            return new StateDict(loaded, header.Metadata);
        }
        catch
        {
            foreach (var (_, tensor) in loaded) tensor.Dispose();
            throw;
        }
    }

    /// <summary>Reads every tensor as bytes, in file order.</summary>
    /// <exception cref="TensorFileException">The file is invalid, or a tensor is larger than a managed array can hold.</exception>
    public static IReadOnlyList<RawTensor> LoadRaw(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = OpenRead(path);
        var header = SafetensorsHeader.Read(path, file);
        var result = new List<RawTensor>(header.Entries.Count);
        foreach (var entry in header.Entries)
        {
            if (entry.ByteLength > Array.MaxLength)
                throw new TensorFileException(path, entry.Name, $"the tensor holds {entry.ByteLength} bytes, more than a managed array can hold: use Load instead");
            var bytes = new byte[entry.ByteLength];
            file.Position = header.DataStart + entry.Begin;
            file.ReadExactly(bytes);
            result.Add(new RawTensor(entry.Name, entry.DType, entry.Shape, bytes));
        }
        return result;
    }

    /// <summary>Reads and validates the header alone: names, dtypes, shapes, byte ranges and metadata.</summary>
    public static SafetensorsHeader ReadHeader(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = OpenRead(path);
        return SafetensorsHeader.Read(path, file);
    }

    private static FileStream OpenRead(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (FileNotFoundException e)
        {
            throw new FileNotFoundException($"the safetensors file {path} does not exist", path, e);
        }
    }

    private static MemoryMappedFile? MapData(string path, SafetensorsHeader header, out MemoryMappedViewAccessor? view)
    {
        view = null;
        if (header.Entries.All(e => e.ByteLength == 0)) return null;
        var mapping = MemoryMappedFile.CreateFromFile(path, FileMode.Open, mapName: null, capacity: 0, MemoryMappedFileAccess.Read);
        try
        {
            view = mapping.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            return mapping;
        }
        catch
        {
            mapping.Dispose();
            throw;
        }
    }

    private sealed record PendingWrite(string Name, ScalarType DType, IReadOnlyList<long> Shape, long ByteLength, Action<Stream> WriteData);

    private static void Write(string path, IReadOnlyList<PendingWrite> items, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentNullException.ThrowIfNull(path);
        var header = BuildHeader(items, metadata);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 20))
            {
                Span<byte> length = stackalloc byte[8];
                BitConverter.TryWriteBytes(length, (ulong)header.Length);
                file.Write(length);
                file.Write(header);
                foreach (var item in items)
                {
                    var before = file.Position;
                    item.WriteData(file);
                    if (file.Position - before != item.ByteLength)
                        throw new InvalidOperationException($"tensor '{item.Name}' wrote {file.Position - before} bytes instead of {item.ByteLength}");
                }
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    private static byte[] BuildHeader(IReadOnlyList<PendingWrite> items, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(SafetensorsHeader.MetadataKey);
                foreach (var (key, value) in metadata)
                {
                    ArgumentNullException.ThrowIfNull(value, nameof(metadata));
                    json.WriteString(key, value);
                }
                json.WriteEndObject();
            }
            var names = new HashSet<string>(StringComparer.Ordinal);
            long offset = 0;
            foreach (var item in items)
            {
                if (item.Name == SafetensorsHeader.MetadataKey)
                    throw new ArgumentException($"'{SafetensorsHeader.MetadataKey}' is reserved for metadata and cannot name a tensor");
                if (!names.Add(item.Name))
                    throw new ArgumentException($"the tensor name '{item.Name}' appears twice");
                json.WriteStartObject(item.Name);
                json.WriteString("dtype", TensorDTypes.SafetensorsName(item.DType));
                json.WriteStartArray("shape");
                foreach (var size in item.Shape) json.WriteNumberValue(size);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset = checked(offset + item.ByteLength);
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        // Padding the header with spaces to a multiple of 8 keeps the data aligned, as the reference writer does.
        var padding = (int)((8 - buffer.Length % 8) % 8);
        for (var i = 0; i < padding; i++) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
