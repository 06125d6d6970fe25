namespace ImageCaptioning.Data;

/// <summary>What one training sample of a <see cref="CaptionDataset"/> is.</summary>
public enum CaptionDatasetMode
{
    /// <summary>
    /// One sample per caption: inputs are the tokens without the last, targets the tokens without the first
    /// (teacher forcing over the whole caption); padded positions hold the pad id, which the loss ignores.
    /// </summary>
    FullSequence = 0,

    /// <summary>
    /// The recipe's expansion: a caption of n tokens gives n - 1 samples, the prefix of length i (right-padded to the
    /// maximum length) predicting token i. Batches run across caption boundaries.
    /// </summary>
    PrefixExpansion = 1,
}
