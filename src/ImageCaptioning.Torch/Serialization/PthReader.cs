using System.IO.Compression;
using ImageCaptioning.Torch.Serialization.Pickle;

namespace ImageCaptioning.Torch.Serialization;

/// <summary>
/// Reads PyTorch checkpoints written by <c>torch.save</c>: the zip format (the default since PyTorch 1.6) and the
/// legacy format before it (torchvision's published weights such as <c>vgg16-397923af.pth</c> are legacy files).
/// The pickles inside are read by a restricted unpickler that accepts only the values a state_dict is made of and
/// never executes code: any other Python global (<c>os.system</c>, <c>builtins.eval</c>, ...) raises
/// <see cref="UnsafePickleException"/>. Storages are streamed into native memory, so files of any size load without
/// a managed copy.
/// </summary>
public static partial class PthReader
{
    /// <summary>The legacy format's first pickle (<c>torch.serialization.MAGIC_NUMBER</c>).</summary>
    private static readonly System.Numerics.BigInteger LegacyMagicNumber = System.Numerics.BigInteger.Parse("119547037146038801333356");

    private const long LegacyProtocolVersion = 1001;

    /// <summary>
    /// The largest data.pkl read. A tensor takes about 200 bytes of pickle, so this describes millions of tensors;
    /// the pickle is held in memory while it is read.
    /// </summary>
    internal const long MaxPickleBytes = 1L << 30;

    /// <summary>The byteorder record holds "little" or "big".</summary>
    private const long MaxByteOrderBytes = 16;

    /// <summary>
    /// Reads the model weights of <paramref name="path"/> (see <see cref="PthCheckpoint.FindStateDict"/> for how
    /// they are found inside a larger checkpoint) onto <paramref name="device"/>, in file order. The caller owns the
    /// result; the checkpoint's other tensors are freed.
    /// </summary>
    /// <exception cref="TensorFileException">The file is not a readable checkpoint; the message says why.</exception>
    /// <exception cref="UnsafePickleException">The file references code a state_dict never needs.</exception>
    public static StateDict ReadStateDict(string path, Device? device = null, string? key = null)
    {
        using var checkpoint = Read(path, device);
        return checkpoint.TakeStateDict(key);
    }

    /// <summary>Reads the whole object saved in <paramref name="path"/>, with its tensors on <paramref name="device"/>.</summary>
    /// <exception cref="TensorFileException">The file is not a readable checkpoint; the message says why.</exception>
    /// <exception cref="UnsafePickleException">The file references code a state_dict never needs.</exception>
    public static PthCheckpoint Read(string path, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (FileNotFoundException e)
        {
            throw new FileNotFoundException($"the checkpoint {path} does not exist", path, e);
        }

        using (file)
        using (var builder = new CheckpointBuilder(path, device ?? torch.CPU))
        {
            try
            {
                var root = Detect(path, file) switch
                {
                    Format.Zip => ReadZip(path, file, builder),
                    _ => ReadLegacy(path, file, builder),
                };
                return builder.Finish(root);
            }
            catch (Exception e) when (e is not TensorFileException && IsFormatProblem(e))
            {
                throw new TensorFileException(path, null, $"the checkpoint cannot be read (corrupt, truncated or unsupported): {e.Message}", e);
            }
        }
    }

    private enum Format { Zip, Legacy }

    private static Format Detect(string path, FileStream file)
    {
        if (file.Length == 0) throw new TensorFileException(path, null, "the file is empty");
        Span<byte> head = stackalloc byte[4];
        var read = file.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        file.Position = 0;
        if (read == 4 && head[0] == 'P' && head[1] == 'K' && head[2] is 3 or 5 && head[3] is 4 or 6) return Format.Zip;
        if (file.Length > 262)
        {
            Span<byte> tarMagic = stackalloc byte[5];
            file.Position = 257;
            file.ReadExactly(tarMagic);
            file.Position = 0;
            if (tarMagic.SequenceEqual("ustar"u8))
                throw new TensorFileException(path, null, "the file is a tar archive, PyTorch's format before 0.1.10, which is not supported: load and re-save it with a recent PyTorch");
        }
        return Format.Legacy;
    }

    // Errors of the layers underneath (zip reader, stream, libtorch, checked arithmetic): reported with the file's name.
    private static bool IsFormatProblem(Exception e) =>
        e is IOException or InvalidDataException or OverflowException or System.Runtime.InteropServices.ExternalException or ArgumentException or NotSupportedException;

    private static object? ReadZip(string path, FileStream file, CheckpointBuilder builder)
    {
        ZipArchive archive;
        try
        {
            archive = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw new TensorFileException(path, null, $"the zip archive is unreadable (truncated or corrupt): {e.Message}", e);
        }

        using (archive)
        {
            // Two entries of one name would let two readers see different files; torch.save never writes that.
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var entry in archive.Entries)
            {
                if (!names.Add(entry.FullName))
                    throw new TensorFileException(path, null, $"the zip archive holds two entries named {entry.FullName}");
                if (entry.CompressedLength > file.Length)
                    throw new TensorFileException(path, null, $"{entry.FullName} claims {entry.CompressedLength} compressed bytes, more than the {file.Length}-byte file holds");
            }
            // torch.save names the archive's top folder after nothing in particular ("archive" or the file's stem):
            // find it by its data.pkl.
            var pickles = archive.Entries.Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.IndexOf('/') == e.FullName.Length - "/data.pkl".Length).ToList();
            if (pickles.Count != 1)
            {
                var hint = archive.Entries.Any(e => e.FullName.EndsWith("/constants.pkl", StringComparison.Ordinal))
                    ? " It looks like a TorchScript archive (torch.jit.save), which holds code; save the model's state_dict with torch.save instead."
                    : "";
                throw new TensorFileException(path, null, pickles.Count == 0
                    ? $"the zip archive has no <folder>/data.pkl, so it is not a torch.save checkpoint.{hint}"
                    : "the zip archive has several <folder>/data.pkl entries");
            }
            var prefix = pickles[0].FullName[..^"data.pkl".Length];

            var byteOrder = archive.GetEntry(prefix + "byteorder");
            if (byteOrder is not null)
            {
                using var record = CheckedZipEntry.OpenBounded(path, byteOrder, MaxByteOrderBytes, "it holds 'little' or 'big'");
                var order = System.Text.Encoding.ASCII.GetString(record.ReadAll()).Trim();
                if (order != "little")
                    throw new TensorFileException(path, null, $"the checkpoint was written on a '{order}'-endian machine; only little-endian data is supported");
            }

            byte[] pickleBytes;
            using (var pickle = CheckedZipEntry.OpenBounded(path, pickles[0], Math.Min(MaxPickleBytes, Array.MaxLength), "far more than any state_dict's pickle"))
                pickleBytes = pickle.ReadAll();
            using var pickleStream = new MemoryStream(pickleBytes, writable: false);
            var unpickler = new Unpickler(pickleStream, path, pickles[0].FullName, id =>
            {
                var view = builder.ResolveStorage(id, legacy: false);
                if (view.Root.Data is null) ReadZipStorage(path, archive, prefix, builder, view.Root);
                return view;
            });
            return unpickler.Load();
        }
    }

    private static void ReadZipStorage(string path, ZipArchive archive, string prefix, CheckpointBuilder builder, StorageSlot slot)
    {
        var name = $"{prefix}data/{slot.Key}";
        var entry = archive.GetEntry(name)
            ?? throw new TensorFileException(path, slot.Key, $"the storage's record {name} is missing from the archive");
        using var data = CheckedZipEntry.Open(path, entry, checked(slot.ElementCount * slot.DType.ElementSize()), slot.Key);
        builder.ReadStorage(slot, data);
    }

    // The legacy layout: four pickles (magic number, protocol version, system info, the object), a pickled list of
    // storage keys, then each storage's data as an 8-byte little-endian element count followed by the raw elements.
    private static object? ReadLegacy(string path, FileStream file, CheckpointBuilder builder)
    {
        var magic = new Unpickler(file, path, "magic number", persistentLoad: null).Load();
        if (!(magic is System.Numerics.BigInteger number && number == LegacyMagicNumber))
            throw new TensorFileException(path, null, "the file is neither a zip archive nor a legacy torch.save file (wrong magic number): not a PyTorch checkpoint, or a corrupt one");
        var protocol = new Unpickler(file, path, "protocol version", persistentLoad: null).Load();
        if (protocol is not LegacyProtocolVersion)
            throw new TensorFileException(path, null, $"the legacy protocol version is {protocol ?? "None"}, not {LegacyProtocolVersion}");
        var systemInfo = new Unpickler(file, path, "system info", persistentLoad: null).Load();
        if (systemInfo is PickleDictionary info && info.TryGetValue("little_endian", out var little) && little is false)
            throw new TensorFileException(path, null, "the checkpoint was written on a big-endian machine; only little-endian data is supported");

        var root = new Unpickler(file, path, "object pickle", id => builder.ResolveStorage(id, legacy: true)).Load();

        var keys = new Unpickler(file, path, "storage key list", persistentLoad: null).Load() as List<object?>
            ?? throw new TensorFileException(path, null, "the storage key list is not a list");
        Span<byte> countBytes = stackalloc byte[8];
        foreach (var item in keys)
        {
            if (item is not string key)
                throw new TensorFileException(path, null, $"the storage key list holds {Unpickler.Describe(item)}, not a string");
            if (!builder.TryGetSlot(key, out var slot))
                throw new TensorFileException(path, key, "the storage key list names a storage that no tensor uses");
            if (file.ReadAtLeast(countBytes, 8, throwOnEndOfStream: false) != 8)
                throw new TensorFileException(path, key, "the file ends before the storage's data: the file is truncated");
            var count = BitConverter.ToInt64(countBytes);
            if (count != slot.ElementCount)
                throw new TensorFileException(path, key, $"the storage's data holds {count} elements but the pickle describes {slot.ElementCount}");
            var bytes = checked(count * slot.DType.ElementSize());
            if (bytes > file.Length - file.Position)
                throw new TensorFileException(path, key, $"the storage needs {bytes} bytes but only {file.Length - file.Position} remain: the file is truncated");
            builder.ReadStorage(slot, file);
        }
        return root;
    }
}
