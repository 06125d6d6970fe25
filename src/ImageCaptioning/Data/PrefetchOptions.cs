namespace ImageCaptioning.Data;

/// <summary>How many batches are prepared ahead, and by how many threads (Keras <c>workers</c>, <c>max_queue_size</c>).</summary>
public sealed record PrefetchOptions
{
    private readonly int workers = 2;
    private readonly int maxQueueSize = 8;

    /// <summary>Worker threads building batches.</summary>
    public int Workers
    {
        get => workers;
        init => workers = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Workers), value, "must be at least 1");
    }

    /// <summary>Most batches being built or waiting to be consumed at any time.</summary>
    public int MaxQueueSize
    {
        get => maxQueueSize;
        init => maxQueueSize = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MaxQueueSize), value, "must be at least 1");
    }
}
