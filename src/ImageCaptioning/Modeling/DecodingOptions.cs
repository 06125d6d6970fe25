namespace ImageCaptioning.Modeling;

/// <summary>How a caption is chosen token by token.</summary>
public enum DecodingStrategy
{
    /// <summary>The most likely token at every step.</summary>
    Greedy,

    /// <summary>Samples from softmax(logits / temperature), restricted to the top-k tokens when TopK &gt; 0.</summary>
    Sample,

    /// <summary>Keeps the BeamWidth best partial captions by (length-normalised) log-probability.</summary>
    Beam,
}

/// <summary>Decoding settings; each is checked as it is set.</summary>
public sealed record DecodingOptions
{
    /// <summary>Greedy decoding, the default.</summary>
    public static DecodingOptions Greedy { get; } = new();

    /// <summary>The strategy.</summary>
    public DecodingStrategy Strategy { get; init => field = OptionGuard.Defined(value); } = DecodingStrategy.Greedy;

    /// <summary>Most tokens generated after the start token (the end token counts).</summary>
    public int MaxLength { get; init => field = OptionGuard.AtLeast(value, 1); } = 30;

    /// <summary>Divides the logits before sampling: below 1 sharpens, above 1 flattens.</summary>
    public double Temperature { get; init => field = OptionGuard.Positive(value); } = 1.0;

    /// <summary>Sampling draws only from the k most likely tokens; 0 means all.</summary>
    public int TopK { get; init => field = OptionGuard.Require(value, value >= 0, "must be 0 (all tokens) or positive"); }

    /// <summary>Seeds libtorch's generator before sampling, for reproducible captions; null leaves it alone.</summary>
    public long? Seed { get; init; }

    /// <summary>
    /// Whether greedy and sampled captions carry their log-probability. It costs one pass over the vocabulary per
    /// step; turn it off for throughput (the score is then NaN). Beam search always scores.
    /// </summary>
    public bool ComputeLogProbability { get; init; } = true;

    /// <summary>Beams kept per image.</summary>
    public int BeamWidth { get; init => field = OptionGuard.AtLeast(value, 1); } = 3;

    /// <summary>
    /// Beam hypotheses are ranked by log-probability / length^LengthPenalty: 0 ranks by total log-probability
    /// (favouring short captions), 1 by mean log-probability per token.
    /// </summary>
    public double LengthPenalty { get; init => field = OptionGuard.Require(value, !(value < 0), "must not be negative"); } = 1.0;
}

/// <summary>One decoded caption: token ids after the start token, without the end token.</summary>
/// <param name="Tokens">The generated token ids.</param>
/// <param name="LogProbability">Sum of the chosen tokens' log-probabilities (the end token included when emitted);
/// NaN when <see cref="DecodingOptions.ComputeLogProbability"/> is off.</param>
/// <param name="Finished">Whether the end token was emitted within the length limit.</param>
public sealed record DecodedCaption(IReadOnlyList<int> Tokens, double LogProbability, bool Finished)
{
    /// <summary>
    /// For a model that attends over grid cells, the weights with which each token was chosen: <c>Attention[i]</c>
    /// belongs to <c>Tokens[i]</c>, one weight per cell (see <see cref="CaptionModel.AttentionGrid"/>), summing to 1.
    /// Empty for models that do not attend.
    /// </summary>
    public IReadOnlyList<float[]> Attention { get; init; } = [];
}
