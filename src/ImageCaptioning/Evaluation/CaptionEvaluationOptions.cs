namespace ImageCaptioning.Evaluation;

/// <summary>Options of <see cref="CaptionMetrics.Evaluate"/>.</summary>
public sealed record CaptionEvaluationOptions
{
    /// <summary>The options used when none are given.</summary>
    public static CaptionEvaluationOptions Default { get; } = new();

    /// <summary>How hypotheses and references are tokenised.</summary>
    public EvaluationTokenizerOptions Tokenizer { get; init => field = OptionGuard.NotNull(value); } = EvaluationTokenizerOptions.Default;

    /// <summary>
    /// The corpus BLEU options: BLEU-1..4 without smoothing by default. The per-image sentence BLEU uses the same
    /// maximum order with <see cref="BleuSmoothing.Method1"/>, because a single caption often has no 4-gram match.
    /// </summary>
    public BleuOptions Bleu { get; init => field = OptionGuard.NotNull(value); } = BleuOptions.Default;

    /// <summary>The CIDEr-D options.</summary>
    public CiderDOptions CiderD { get; init => field = OptionGuard.NotNull(value); } = CiderDOptions.Default;
}
