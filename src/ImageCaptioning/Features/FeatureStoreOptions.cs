namespace ImageCaptioning.Features;

/// <summary>How a <see cref="FeatureStore"/> maps and writes its files.</summary>
public sealed record FeatureStoreOptions
{
    /// <summary>
    /// Bytes of <c>features.npy</c> mapped per view. Reads map the file in windows of this size (rounded down to
    /// whole rows, at least one row) as they are first touched, so a store may be far larger than this and than
    /// the RAM: the operating system pages the windows in and out. Default 64 MiB.
    /// </summary>
    public long ViewBytes
    {
        get;
        init => field = OptionGuard.AtLeast(value, 1L);
    } = 64L << 20;

    /// <summary>
    /// Whether each append is flushed to the disk (fsync) before the index commits it. Turning it off is faster
    /// but a power loss (not a process kill) may then lose committed rows. Default true.
    /// </summary>
    public bool FlushToDisk { get; init; } = true;
}
