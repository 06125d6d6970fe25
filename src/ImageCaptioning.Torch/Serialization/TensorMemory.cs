namespace ImageCaptioning.Torch.Serialization;

// Moves raw tensor bytes between streams and tensor memory in bounded chunks: no managed array ever holds a whole
// tensor, so tensors and files larger than 2 GB work (TorchSharp's Tensor.bytes is one span, limited to 2 GB).
internal static class TensorMemory
{
    private const long ChunkBytes = 1 << 30;

    /// <summary>A new tensor holding a copy of <paramref name="byteLength"/> bytes at <paramref name="data"/>.</summary>
    internal static unsafe Tensor FromBytes(byte* data, long byteLength, ScalarType dtype, long[] shape, Device device)
    {
        var tensor = torch.empty(shape, dtype);
        long done = 0;
        foreach (var chunk in Chunks(tensor))
            using (chunk)
            {
                var span = chunk.bytes;
                new ReadOnlySpan<byte>(data + done, span.Length).CopyTo(span);
                done += span.Length;
            }
        if (done != byteLength) throw new InvalidOperationException($"a [{string.Join(", ", shape)}] {dtype} tensor holds {done} bytes, not {byteLength}");
        if (device.type == DeviceType.CPU) return tensor;
        using (tensor) return tensor.to(device);
    }

    /// <summary>Writes the tensor's elements, row-major and little-endian, to <paramref name="destination"/>.</summary>
    internal static void WriteBytes(Tensor tensor, Stream destination)
    {
        using var noGrad = torch.no_grad();
        using var onCpu = tensor.device_type == DeviceType.CPU ? tensor.detach() : tensor.cpu();
        using var dense = onCpu.contiguous();
        foreach (var chunk in Chunks(dense))
            using (chunk)
                destination.Write(chunk.bytes);
    }

    /// <summary>
    /// Fills a contiguous CPU tensor from <paramref name="source"/>; false when the stream ends first (the caller
    /// reports the truncation with the file and key).
    /// </summary>
    internal static bool TryFill(Tensor tensor, Stream source)
    {
        foreach (var chunk in Chunks(tensor))
            using (chunk)
            {
                var span = chunk.bytes;
                while (span.Length > 0)
                {
                    var read = source.Read(span);
                    if (read == 0) return false;
                    span = span[read..];
                }
            }
        return true;
    }

    // Contiguous views of at most ChunkBytes each, covering the tensor's elements in order.
    private static IEnumerable<Tensor> Chunks(Tensor contiguous)
    {
        var count = contiguous.numel();
        if (count == 0) yield break;
        var perChunk = Math.Max(1, ChunkBytes / contiguous.ElementSize);
        using var flat = contiguous.view(-1);
        for (long start = 0; start < count; start += perChunk)
            yield return flat.narrow(0, start, Math.Min(perChunk, count - start));
    }
}
