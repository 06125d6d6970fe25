using System.Collections.Concurrent;

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
internal sealed class BatchStoragePool(int batchSize, int featureDimension, int maxSequenceLength, int targetsPerSample)
{
    // Enough for a deep prefetch queue; more are created on demand and dropped on return.
    private const int MaxRetained = 64;
    private readonly ConcurrentBag<BatchStorage> free = [];

    public BatchStorage Rent() =>
        free.TryTake(out var storage) ? storage : new BatchStorage(batchSize, featureDimension, maxSequenceLength, targetsPerSample);

    public void Return(BatchStorage storage)
    {
        if (free.Count < MaxRetained) free.Add(storage);
    }
}
