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
