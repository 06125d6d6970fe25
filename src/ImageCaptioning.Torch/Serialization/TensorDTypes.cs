namespace ImageCaptioning.Torch.Serialization;

// The names each file format gives to element types.
internal static class TensorDTypes
{
    internal static string SafetensorsName(ScalarType type) => type switch
    {
        ScalarType.Float32 => "F32",
        ScalarType.Float64 => "F64",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Int16 => "I16",
        ScalarType.Int8 => "I8",
        ScalarType.Byte => "U8",
        ScalarType.Bool => "BOOL",
        _ => throw new NotSupportedException($"safetensors has no name for element type {type}"),
    };

    internal static bool TryParseSafetensorsName(string name, out ScalarType type)
    {
        type = name switch
        {
            "F32" => ScalarType.Float32,
            "F64" => ScalarType.Float64,
            "F16" => ScalarType.Float16,
            "BF16" => ScalarType.BFloat16,
            "I64" => ScalarType.Int64,
            "I32" => ScalarType.Int32,
            "I16" => ScalarType.Int16,
            "I8" => ScalarType.Int8,
            "U8" => ScalarType.Byte,
            "BOOL" => ScalarType.Bool,
            _ => (ScalarType)(-1),
        };
        return (sbyte)type >= 0;
    }

    /// <summary>The element type of a legacy typed storage class (torch.FloatStorage, ...), by class name.</summary>
    internal static bool TryParseStorageClass(string className, out ScalarType type)
    {
        type = className switch
        {
            "FloatStorage" => ScalarType.Float32,
            "DoubleStorage" => ScalarType.Float64,
            "HalfStorage" => ScalarType.Float16,
            "BFloat16Storage" => ScalarType.BFloat16,
            "LongStorage" => ScalarType.Int64,
            "IntStorage" => ScalarType.Int32,
            "ShortStorage" => ScalarType.Int16,
            "CharStorage" => ScalarType.Int8,
            "ByteStorage" => ScalarType.Byte,
            "BoolStorage" => ScalarType.Bool,
            _ => (ScalarType)(-1),
        };
        return (sbyte)type >= 0;
    }

    internal static long CheckedByteLength(IReadOnlyList<long> shape, ScalarType type)
    {
        long count = 1;
        foreach (var size in shape) count = checked(count * size);
        return checked(count * type.ElementSize());
    }
}
