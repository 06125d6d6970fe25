namespace ImageCaptioning.Data;

/// <summary>
/// How a <see cref="CaptionDataset"/> builds batches. Shuffling (per epoch, seeded) reorders captions: in
/// <see cref="CaptionDatasetMode.PrefixExpansion"/> a caption's prefixes stay together and in order, as in the recipe;
/// in <see cref="CaptionDatasetMode.FullSequence"/> each caption is one sample, and with
/// <see cref="BucketByLength"/> the shuffled captions are sorted by length within windows and the batches shuffled.
/// </summary>
public sealed record CaptionDatasetOptions : SequenceOptions
{
    /// <summary>Creates the defaults: full sequences, batches of 64, shuffled with seed 0.</summary>
    public CaptionDatasetOptions() => BatchSize = 64;

    /// <summary>What a sample is.</summary>
    public CaptionDatasetMode Mode { get; init; } = CaptionDatasetMode.FullSequence;

    /// <summary>Most tokens of a caption, marks included; longer captions are truncated (and counted). Null: the longest caption.</summary>
    public int? MaxLength
    {
        get;
        init => field = OptionGuard.Require(value, value is null or >= 2, "must be at least 2 (a start and one more token)");
    }

    /// <summary>Pad each batch only to its longest sample instead of to <see cref="MaxLength"/>.</summary>
    public bool PadToLongest { get; init; }

    /// <summary>Full-sequence mode: batch captions of similar length together (batches still come in shuffled order).</summary>
    public bool BucketByLength { get; init; }

    /// <summary>With <see cref="BucketByLength"/>: how many batches' worth of shuffled captions are sorted by length together.</summary>
    public int BucketWindowBatches
    {
        get;
        init => field = OptionGuard.AtLeast(value, 1);
    } = 32;

    /// <summary>What to do with images that have no features.</summary>
    public MissingFeaturePolicy MissingFeatures { get; init; } = MissingFeaturePolicy.Throw;
}
