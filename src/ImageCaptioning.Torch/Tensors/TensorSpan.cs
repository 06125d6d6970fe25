using System.Runtime.InteropServices;

namespace ImageCaptioning.Torch.Tensors;

/// <summary>
/// Copies between spans and tensors in one pass through native memory. TorchSharp's <c>torch.tensor(T[])</c> clones
/// the array and pins the clone for the tensor's lifetime, and has no span overload; batches and features are
/// spans over pooled or memory-mapped buffers, so they take this path.
/// </summary>
public static class TensorSpan
{
    /// <summary>A new tensor of <paramref name="shape"/> holding a copy of <paramref name="data"/>, on <paramref name="device"/> (the CPU by default).</summary>
    /// <exception cref="ArgumentException">The shape's element count is not the span's length.</exception>
    public static Tensor Create<T>(ReadOnlySpan<T> data, ReadOnlySpan<long> shape, Device? device = null) where T : unmanaged
    {
        long count = 1;
        foreach (var size in shape) count = checked(count * size);
        if (count != data.Length)
            throw new ArgumentException($"a [{string.Join(", ", shape.ToArray())}] tensor holds {count} elements, not {data.Length}", nameof(shape));
        var tensor = torch.empty(shape.ToArray(), DType<T>());
        try
        {
            if (count > 0) MemoryMarshal.AsBytes(data).CopyTo(tensor.bytes);
            if (device is null || device.type == DeviceType.CPU) return tensor;
            using (tensor) return tensor.to(device);
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    /// <summary>Copies the tensor's elements in row-major order into <paramref name="destination"/> (from any device or layout).</summary>
    /// <exception cref="ArgumentException">The element type or the length differs from the tensor's.</exception>
    public static void CopyTo<T>(this Tensor tensor, Span<T> destination) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.dtype != DType<T>()) throw new ArgumentException($"the tensor holds {tensor.dtype}, not {typeof(T).Name}", nameof(destination));
        if (tensor.numel() != destination.Length)
            throw new ArgumentException($"the tensor holds {tensor.numel()} elements; the destination has room for {destination.Length}", nameof(destination));
        if (destination.Length == 0) return;
        using var noGrad = torch.no_grad();
        using var onCpu = tensor.device_type == DeviceType.CPU ? tensor.alias() : tensor.cpu();
        using var dense = onCpu.contiguous();
        dense.bytes.CopyTo(MemoryMarshal.AsBytes(destination));
    }

    /// <summary>The tensor's elements in row-major order, as a new array.</summary>
    public static T[] ToArray<T>(this Tensor tensor) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var values = new T[checked((int)tensor.numel())];
        tensor.CopyTo<T>(values);
        return values;
    }

    /// <summary>The tensor element type of <typeparamref name="T"/>.</summary>
    /// <exception cref="NotSupportedException">No tensor type corresponds.</exception>
    public static ScalarType DType<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? ScalarType.Float32 :
        typeof(T) == typeof(long) ? ScalarType.Int64 :
        typeof(T) == typeof(int) ? ScalarType.Int32 :
        typeof(T) == typeof(byte) ? ScalarType.Byte :
        typeof(T) == typeof(double) ? ScalarType.Float64 :
        typeof(T) == typeof(short) ? ScalarType.Int16 :
        typeof(T) == typeof(sbyte) ? ScalarType.Int8 :
        typeof(T) == typeof(bool) ? ScalarType.Bool :
        typeof(T) == typeof(Half) ? ScalarType.Float16 :
        throw new NotSupportedException($"no tensor element type for {typeof(T).Name}");
}
