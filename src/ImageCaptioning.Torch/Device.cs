namespace ImageCaptioning.Torch;

/// <summary>Where a tensor lives.</summary>
public enum DeviceType
{
    /// <summary>Host memory.</summary>
    CPU = 0,
    /// <summary>An NVIDIA GPU.</summary>
    CUDA = 1,
}

/// <summary>A device: the CPU, or one CUDA GPU by index.</summary>
public readonly record struct Device(DeviceType Type, int Index)
{
    /// <summary>The CPU.</summary>
    public static Device Cpu { get; } = new(DeviceType.CPU, -1);

    /// <summary>CUDA GPU number <paramref name="index"/>.</summary>
    public static Device Cuda(int index = 0) => new(DeviceType.CUDA, index);

    /// <summary>Parses "cpu", "cuda" or "cuda:N".</summary>
    public static Device Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var value = text.Trim().ToLowerInvariant();
        if (value == "cpu") return Cpu;
        if (value == "cuda") return Cuda();
        if (value.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(value[5..], out var index) && index >= 0)
            return Cuda(index);
        throw new FormatException($"'{text}' is not a device: use \"cpu\", \"cuda\" or \"cuda:N\"");
    }

    /// <summary>Whether this is the CPU.</summary>
    public bool IsCpu => Type == DeviceType.CPU;

    /// <inheritdoc />
    public override string ToString() => Type == DeviceType.CPU ? "cpu" : Index < 0 ? "cuda" : $"cuda:{Index}";
}
