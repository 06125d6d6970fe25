namespace ImageCaptioning.Data;

/// <summary>How many batches are prepared ahead, and by how many threads (Keras <c>workers</c>, <c>max_queue_size</c>).</summary>
public sealed record PrefetchOptions
{
    /// <summary>Worker threads building batches.</summary>
    public int Workers { get; init => field = OptionGuard.AtLeast(value, 1); } = 2;

    /// <summary>Most batches being built or waiting to be consumed at any time.</summary>
    public int MaxQueueSize { get; init => field = OptionGuard.AtLeast(value, 1); } = 8;
}
