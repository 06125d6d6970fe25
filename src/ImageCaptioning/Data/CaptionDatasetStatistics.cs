namespace ImageCaptioning.Data;

/// <summary>What a <see cref="CaptionDataset"/> kept and left out of its corpus.</summary>
/// <param name="Images">Images with at least one usable caption.</param>
/// <param name="Captions">Captions used.</param>
/// <param name="Samples">Samples per epoch (captions, or prefixes in prefix-expansion mode).</param>
/// <param name="MaxLength">Most tokens per caption, marks included.</param>
/// <param name="MissingFeatureImages">Images skipped for lack of features.</param>
/// <param name="TruncatedCaptions">Captions cut to <paramref name="MaxLength"/>.</param>
/// <param name="TooShortCaptions">Captions skipped for having fewer than two tokens (nothing to predict).</param>
public sealed record CaptionDatasetStatistics(int Images, int Captions, long Samples, int MaxLength, int MissingFeatureImages, int TruncatedCaptions, int TooShortCaptions);
