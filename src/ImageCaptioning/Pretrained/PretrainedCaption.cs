namespace ImageCaptioning.Pretrained;

/// <summary>One generated caption of a pretrained captioner.</summary>
/// <param name="Text">The caption, decoded as Hugging Face's <c>decode(ids, skip_special_tokens=True)</c>.</param>
/// <param name="TokenIds">The generated ids after the start (and prompt) tokens, without the end token.</param>
/// <param name="LogProbability">Sum of the chosen tokens' log-probabilities, the end token included when emitted: a
/// confidence score (NaN when not computed).</param>
/// <param name="Score">The ranking score: for beam search Hugging Face's <c>sequences_scores</c> (the log-probability divided by
/// the generated length to the length penalty); for greedy search the log-probability.</param>
/// <param name="Finished">Whether an end token was emitted within the length limit.</param>
public sealed record PretrainedCaption(string Text, IReadOnlyList<int> TokenIds, double LogProbability, double Score, bool Finished);
