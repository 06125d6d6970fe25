namespace ImageCaptioning.Features;

/// <summary>How a <see cref="FeatureStore"/> maps, writes and checks its files.</summary>
public sealed record FeatureStoreOptions
{
    /// <summary>The smallest <see cref="DigestChunkBytes"/>.</summary>
    public const long MinDigestChunkBytes = 4096;

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

    /// <summary>
    /// For a new store: the bytes of rows each SHA-256 in <c>store.json</c> covers (rounded down to whole rows, at least
    /// one). The first read of a row checks its whole chunk, so smaller chunks cost less on the first random read and
    /// more index entries. An existing store keeps the size it was created with. Default 16 MiB.
    /// </summary>
    public long DigestChunkBytes
    {
        get;
        init => field = OptionGuard.AtLeast(value, MinDigestChunkBytes);
    } = 16L << 20;

    /// <summary>Which stores are accepted: by default only those whose digests prove them intact.</summary>
    public FeatureStoreIntegrity Integrity
    {
        get;
        init => field = OptionGuard.Defined(value);
    } = FeatureStoreIntegrity.Verified;
}
