namespace ImageCaptioning.Data;

/// <summary>The arrays behind one <see cref="Batch"/>, sized for the largest batch a dataset makes.</summary>
internal sealed class BatchStorage(int batchSize, int featureDimension, int maxSequenceLength, int targetsPerSample)
{
    public float[] Features { get; } = new float[batchSize * featureDimension];
    public long[] FeatureIndex { get; } = new long[batchSize];
    public int[] Rows { get; } = new int[batchSize];
    public long[] Tokens { get; } = new long[batchSize * maxSequenceLength];
    public long[] Targets { get; } = new long[batchSize * targetsPerSample];
    public long[] Lengths { get; } = new long[batchSize];
}

/// <summary>Reuses <see cref="BatchStorage"/> so that steady-state batch building allocates no arrays.</summary>
/// <remarks>
/// A plain locked stack rather than a <c>ConcurrentBag</c>: prefetch starts new worker threads every epoch, and the
/// bag keeps a queue per thread that ever touched it, so its <c>Count</c> (which locks every queue) and its stealing
/// grew slower epoch after epoch. The lock is held for a push or a pop only, once per batch. Last in, first out also
/// hands back the buffer most likely still in cache.
/// </remarks>
internal sealed class BatchStoragePool(int batchSize, int featureDimension, int maxSequenceLength, int targetsPerSample)
{
    // Enough for a deep prefetch queue; more are created on demand and dropped on return.
    private const int MaxRetained = 64;
    private readonly Lock gate = new();
    private readonly Stack<BatchStorage> free = new();

    public BatchStorage Rent()
    {
        lock (gate)
        {
            if (free.TryPop(out var storage)) return storage;
        }
        return new BatchStorage(batchSize, featureDimension, maxSequenceLength, targetsPerSample);
    }

    public void Return(BatchStorage storage)
    {
        lock (gate)
        {
            if (free.Count < MaxRetained) free.Push(storage);
        }
    }
}
