namespace ImageCaptioning.Modeling;

/// <summary>
/// A caption from <see cref="SoftAttentionCaptionModel.Decode"/>: its tokens (without the start and end tokens),
/// the attention weights over the grid cells with which each token was chosen (<c>Attention[i]</c> belongs to
/// <c>Tokens[i]</c>, one weight per cell, summing to 1), whether it ended with the end token rather than at the
/// length limit, and the sum of its tokens' log-probabilities (the end token included when emitted; NaN when
/// <see cref="DecodingOptions.ComputeLogProbability"/> is off for greedy or sampled captions).
/// </summary>
public sealed record AttendedCaption(IReadOnlyList<int> Tokens, IReadOnlyList<float[]> Attention, bool Finished, double LogProbability);
