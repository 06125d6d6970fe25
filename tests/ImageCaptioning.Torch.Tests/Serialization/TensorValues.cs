using System.Buffers.Binary;
using System.Text.Json;
using ImageCaptioning.Torch.Serialization;
using NUnit.Framework;

namespace ImageCaptioning.Torch.Tests.Serialization;

/// <summary>Reads any tensor's elements exactly (bfloat16 included) and compares them with values a Python reference printed.</summary>
internal static class TensorValues
{
    public static string TorchName(ScalarType type) => type switch
    {
        ScalarType.Float32 => "torch.float32",
        ScalarType.Float64 => "torch.float64",
        ScalarType.Float16 => "torch.float16",
        ScalarType.BFloat16 => "torch.bfloat16",
        ScalarType.Int64 => "torch.int64",
        ScalarType.Int32 => "torch.int32",
        ScalarType.Int16 => "torch.int16",
        ScalarType.Int8 => "torch.int8",
        ScalarType.Byte => "torch.uint8",
        ScalarType.Bool => "torch.bool",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>The tensor's bytes, row-major.</summary>
    public static byte[] Bytes(Tensor tensor)
    {
        using var buffer = new MemoryStream();
        TensorMemory.WriteBytes(tensor, buffer);
        return buffer.ToArray();
    }

    /// <summary>Each element widened without loss: floating types to double, integers to long, booleans to bool.</summary>
    public static object[] Elements(ScalarType type, ReadOnlySpan<byte> bytes)
    {
        var size = type.ElementSize();
        var result = new object[bytes.Length / size];
        for (var i = 0; i < result.Length; i++)
        {
            var b = bytes.Slice(i * size, size);
            result[i] = type switch
            {
                ScalarType.Float32 => (double)BinaryPrimitives.ReadSingleLittleEndian(b),
                ScalarType.Float64 => BinaryPrimitives.ReadDoubleLittleEndian(b),
                ScalarType.Float16 => (double)BinaryPrimitives.ReadHalfLittleEndian(b),
                ScalarType.BFloat16 => (double)BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b) << 16),
                ScalarType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(b),
                ScalarType.Int32 => (long)BinaryPrimitives.ReadInt32LittleEndian(b),
                ScalarType.Int16 => (long)BinaryPrimitives.ReadInt16LittleEndian(b),
                ScalarType.Int8 => (long)(sbyte)b[0],
                ScalarType.Byte => (long)b[0],
                ScalarType.Bool => b[0] != 0,
                _ => throw new ArgumentOutOfRangeException(nameof(type)),
            };
        }
        return result;
    }

    public static object[] Elements(Tensor tensor) => Elements(tensor.dtype, Bytes(tensor));

    /// <summary>Asserts that the elements equal the JSON values exactly (floats bit for bit).</summary>
    public static void AssertEqual(JsonElement expected, object[] actual, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.GetArrayLength()), $"{what}: element count");
        var i = 0;
        foreach (var item in expected.EnumerateArray())
        {
            var value = actual[i];
            switch (value)
            {
                case double d:
                    Assert.That(BitConverter.DoubleToInt64Bits(d), Is.EqualTo(BitConverter.DoubleToInt64Bits(item.GetDouble())),
                        $"{what}[{i}]: {d:R} != {item.GetRawText()}");
                    break;
                case long l:
                    Assert.That(l, Is.EqualTo(item.GetInt64()), $"{what}[{i}]");
                    break;
                case bool flag:
                    Assert.That(flag, Is.EqualTo(item.GetBoolean()), $"{what}[{i}]");
                    break;
            }
            i++;
        }
    }

    public static long[] Shape(JsonElement shape) => shape.EnumerateArray().Select(e => e.GetInt64()).ToArray();
}
