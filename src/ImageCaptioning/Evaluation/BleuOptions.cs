namespace ImageCaptioning.Evaluation;

/// <summary>How BLEU treats an n-gram order with no clipped match.</summary>
public enum BleuSmoothing
{
    /// <summary>
    /// No smoothing, as NLTK's <c>SmoothingFunction().method0</c>: a zero precision is replaced by the smallest normal
    /// double, which drives every cumulative score that includes that order to (practically) zero.
    /// </summary>
    None,

    /// <summary>
    /// Chen and Cherry's method 1, as NLTK's <c>SmoothingFunction().method1</c>: a zero-match order gets
    /// <see cref="BleuOptions.SmoothingEpsilon"/> matches instead of 0.
    /// </summary>
    Method1,
}

/// <summary>Options of <see cref="Bleu"/>. The defaults are NLTK's <c>corpus_bleu</c> defaults.</summary>
public sealed record BleuOptions
{
    /// <summary>The highest n-gram order this implementation accepts.</summary>
    public const int MaxSupportedOrder = NGramOrder.MaxSupported;

    /// <summary>The options used when none are given: BLEU-1..4 without smoothing.</summary>
    public static BleuOptions Default { get; } = new();

    /// <summary>
    /// The highest n-gram order N; the score holds the cumulative BLEU-1..N, BLEU-n weighting orders 1..n by 1/n.
    /// Between 1 and <see cref="MaxSupportedOrder"/>; 4 by default.
    /// </summary>
    public int MaxOrder { get; init => field = NGramOrder.Check(value); } = 4;

    /// <summary>How zero-match orders are treated; <see cref="BleuSmoothing.None"/> by default.</summary>
    public BleuSmoothing Smoothing { get; init; } = BleuSmoothing.None;

    /// <summary>The count that <see cref="BleuSmoothing.Method1"/> gives a zero-match order: positive and finite, 0.1 by default as in NLTK.</summary>
    public double SmoothingEpsilon { get; init => field = OptionGuard.Positive(value); } = 0.1;
}
