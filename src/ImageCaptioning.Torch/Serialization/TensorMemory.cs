using ImageCaptioning.Torch.Native;

namespace ImageCaptioning.Torch.Serialization;

// Moves raw tensor bytes between streams and native tensor memory in bounded chunks: no managed array ever holds a
// whole tensor, so tensors and files larger than 2 GB work.
internal static class TensorMemory
{
    private const int ChunkBytes = 1 << 30;

    /// <summary>A new tensor holding a copy of <paramref name="byteLength"/> bytes at <paramref name="data"/>.</summary>
    internal static unsafe Tensor FromBytes(byte* data, long byteLength, ScalarType dtype, long[] shape, Device device)
    {
        byte dummy = 0;
        var source = byteLength == 0 ? &dummy : data;
        fixed (long* s = shape)
            return new Tensor(NativeMethods.ic_tensor_from_data(source, (int)dtype, s, shape.Length, (int)device.Type, device.Index, 0));
    }

    /// <summary>Writes the tensor's elements, row-major and little-endian, to <paramref name="destination"/>.</summary>
    internal static unsafe void WriteBytes(Tensor tensor, Stream destination)
    {
        using var noGrad = torch.no_grad();
        using var onCpu = tensor.device.IsCpu ? tensor.detach() : tensor.cpu();
        using var dense = onCpu.contiguous();
        var byteLength = checked(dense.numel() * dense.dtype.ElementSize());
        if (byteLength == 0) return;
        var data = (byte*)ThrowHelper.CheckHandle(NativeMethods.ic_tensor_data_ptr(dense.Handle));
        for (long done = 0; done < byteLength;)
        {
            var chunk = (int)Math.Min(ChunkBytes, byteLength - done);
            destination.Write(new ReadOnlySpan<byte>(data + done, chunk));
            done += chunk;
        }
        GC.KeepAlive(dense);
    }

    /// <summary>
    /// Fills a contiguous CPU tensor from <paramref name="source"/>; false when the stream ends first (the caller
    /// reports the truncation with the file and key).
    /// </summary>
    internal static unsafe bool TryFill(Tensor tensor, Stream source)
    {
        var byteLength = checked(tensor.numel() * tensor.dtype.ElementSize());
        if (byteLength == 0) return true;
        var data = (byte*)ThrowHelper.CheckHandle(NativeMethods.ic_tensor_data_ptr(tensor.Handle));
        for (long done = 0; done < byteLength;)
        {
            var chunk = (int)Math.Min(ChunkBytes, byteLength - done);
            var read = source.Read(new Span<byte>(data + done, chunk));
            if (read == 0) return false;
            done += read;
        }
        GC.KeepAlive(tensor);
        return true;
    }
}
