using System.Buffers.Binary;

namespace ImageCaptioning.Tests.Training;

/// <summary>Damages files the way a bad disk or a careless edit would, keeping their size and format valid.</summary>
internal static class Tamper
{
    /// <summary>Inverts <paramref name="count"/> bytes in the middle of a safetensors file's tensor data (the header stays valid).</summary>
    public static void FlipTensorBytes(string safetensorsPath, int count = 64)
    {
        var bytes = File.ReadAllBytes(safetensorsPath);
        var dataStart = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var start = dataStart + ((bytes.Length - dataStart - count) / 2);
        if (start < dataStart) throw new ArgumentException($"{safetensorsPath} holds fewer than {count} bytes of tensor data");
        for (var i = start; i < start + count; i++) bytes[i] ^= 0xFF;
        File.WriteAllBytes(safetensorsPath, bytes);
    }

    /// <summary>Inverts <paramref name="count"/> bytes in the middle of any file, keeping its size (TorchSharp's optimiser state has no header to spare).</summary>
    public static void FlipMiddleBytes(string path, int count = 64)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < count) throw new ArgumentException($"{path} holds fewer than {count} bytes");
        var start = (bytes.Length - count) / 2;
        for (var i = start; i < start + count; i++) bytes[i] ^= 0xFF;
        File.WriteAllBytes(path, bytes);
    }
}
