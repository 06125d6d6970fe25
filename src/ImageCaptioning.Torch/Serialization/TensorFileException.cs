namespace ImageCaptioning.Torch.Serialization;

/// <summary>
/// A tensor file (safetensors, PyTorch <c>.pth</c>) is malformed, truncated or unsupported. The message names the
/// file and, when known, the tensor key or storage involved.
/// </summary>
public class TensorFileException : IOException
{
    /// <summary>Creates the exception; the message is prefixed with the file (and key, when given).</summary>
    public TensorFileException(string filePath, string? key, string reason, Exception? innerException = null)
        : base(Describe(filePath, key, reason), innerException)
    {
        FilePath = filePath;
        Key = key;
    }

    /// <summary>The file that could not be read or written.</summary>
    public string FilePath { get; }

    /// <summary>The tensor key or storage the problem is about, or null when it concerns the whole file.</summary>
    public string? Key { get; }

    private static string Describe(string filePath, string? key, string reason) =>
        key is null ? $"{filePath}: {reason}" : $"{filePath}: '{key}': {reason}";
}

/// <summary>
/// A pickle in a <c>.pth</c> file references a Python global outside the small set a state_dict needs (for example
/// <c>posix.system</c> or <c>builtins.eval</c>). Nothing is ever executed: the file is rejected when the reference
/// is read.
/// </summary>
public sealed class UnsafePickleException : TensorFileException
{
    /// <summary>Creates the exception for <paramref name="globalName"/> (module.name) found in <paramref name="filePath"/>.</summary>
    public UnsafePickleException(string filePath, string globalName)
        : base(filePath, null,
            $"the pickle references the global '{globalName}', which is not allowed: only the classes and functions a PyTorch " +
            "state_dict needs are accepted (collections.OrderedDict, torch._utils._rebuild_tensor_v2, " +
            "torch._utils._rebuild_tensor, torch._utils._rebuild_parameter, torch.*Storage). The file was rejected; nothing was executed.")
    {
        GlobalName = globalName;
    }

    /// <summary>The rejected global, as module.name.</summary>
    public string GlobalName { get; }
}

/// <summary>
/// A zip checkpoint's entry holds bytes whose CRC-32 differs from the one the archive recorded: the file was damaged
/// after it was written. Nothing read from it is used.
/// </summary>
public sealed class TensorFileChecksumException : TensorFileException
{
    /// <summary>Creates the exception for <paramref name="entryName"/>, whose recorded and computed CRC-32s differ.</summary>
    public TensorFileChecksumException(string filePath, string entryName, uint expectedCrc32, uint foundCrc32)
        : base(filePath, null, $"{entryName}: the data's CRC-32 is {foundCrc32:x8} but the archive records {expectedCrc32:x8}: the file is damaged")
    {
        EntryName = entryName;
        ExpectedCrc32 = expectedCrc32;
        FoundCrc32 = foundCrc32;
    }

    /// <summary>The zip entry whose data is damaged.</summary>
    public string EntryName { get; }

    /// <summary>The CRC-32 the archive records for the entry.</summary>
    public uint ExpectedCrc32 { get; }

    /// <summary>The CRC-32 of the bytes the entry actually holds.</summary>
    public uint FoundCrc32 { get; }
}
