namespace ImageCaptioning.Evaluation;

/// <summary>Options of <see cref="CiderD"/>. The defaults are coco-caption's CIDEr-D: n-grams up to 4, σ = 6.</summary>
public sealed record CiderDOptions
{
    /// <summary>The highest n-gram order this implementation accepts.</summary>
    public const int MaxSupportedOrder = NGramOrder.MaxSupported;

    /// <summary>The options used when none are given.</summary>
    public static CiderDOptions Default { get; } = new();

    /// <summary>The highest n-gram order; the score is the mean of the per-order similarities 1..n. 4 by default.</summary>
    public int MaxOrder { get; init => field = NGramOrder.Check(value); } = 4;

    /// <summary>The standard deviation σ of the Gaussian length penalty exp(-δ²/2σ²): positive and finite, 6 by default.</summary>
    public double Sigma { get; init => field = OptionGuard.Positive(value); } = 6.0;
}
