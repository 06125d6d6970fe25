namespace ImageCaptioning.Torch.Serialization;

/// <summary>A named tensor as plain bytes (row-major, little-endian), for code that does not need libtorch tensors.</summary>
public sealed record RawTensor
{
    /// <summary>Creates the tensor after checking that <paramref name="data"/> holds exactly shape × element size bytes.</summary>
    public RawTensor(string name, ScalarType dtype, IReadOnlyList<long> shape, ReadOnlyMemory<byte> data)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        _ = TensorDTypes.SafetensorsName(dtype);
        foreach (var size in shape)
            ArgumentOutOfRangeException.ThrowIfNegative(size, nameof(shape));
        var expected = TensorDTypes.CheckedByteLength(shape, dtype);
        if (expected != data.Length)
            throw new ArgumentException($"tensor '{name}' of shape [{string.Join(", ", shape)}] and type {dtype} needs {expected} bytes, not {data.Length}", nameof(data));
        Name = name;
        DType = dtype;
        Shape = shape.ToArray();
        Data = data;
    }

    /// <summary>The tensor's key.</summary>
    public string Name { get; }

    /// <summary>Element type.</summary>
    public ScalarType DType { get; }

    /// <summary>Sizes (empty for a scalar).</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>The elements' bytes, row-major and little-endian.</summary>
    public ReadOnlyMemory<byte> Data { get; }
}
