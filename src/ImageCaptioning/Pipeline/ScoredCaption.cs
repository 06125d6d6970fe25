namespace ImageCaptioning.Pipeline;

/// <summary>One image's caption with what the decoder knows about it: its score and, for an attention model, where it looked.</summary>
/// <param name="Text">The caption, as the captioner's <c>Caption</c> methods give it.</param>
/// <param name="LogProbability">
/// The sum of the chosen tokens' log-probabilities (the end token included when emitted); NaN when
/// <see cref="Modeling.DecodingOptions.ComputeLogProbability"/> is off for greedy or sampled decoding.
/// </param>
/// <param name="Finished">Whether the end token was emitted within the length limit (false: the caption was cut at it).</param>
/// <param name="Attention">Each generated word's weights over the model's feature grid; null for a model that does not attend.</param>
public sealed record ScoredCaption(string Text, double LogProbability, bool Finished, CaptionAttention? Attention);
