namespace ImageCaptioning.Evaluation;

/// <summary>Options of <see cref="CiderD"/>. The defaults are coco-caption's CIDEr-D: n-grams up to 4, σ = 6.</summary>
public sealed record CiderDOptions
{
    /// <summary>The highest n-gram order this implementation accepts.</summary>
    public const int MaxSupportedOrder = 16;

    private readonly int _maxOrder = 4;
    private readonly double _sigma = 6.0;

    /// <summary>The options used when none are given.</summary>
    public static CiderDOptions Default { get; } = new();

    /// <summary>The highest n-gram order; the score is the mean of the per-order similarities 1..n. 4 by default.</summary>
    public int MaxOrder
    {
        get => _maxOrder;
        init
        {
            if (value is < 1 or > MaxSupportedOrder)
                EvaluationThrowHelper.ThrowOutOfRange(nameof(MaxOrder), value, $"must be between 1 and {MaxSupportedOrder}");
            _maxOrder = value;
        }
    }

    /// <summary>The standard deviation σ of the Gaussian length penalty exp(-δ²/2σ²): positive and finite, 6 by default.</summary>
    public double Sigma
    {
        get => _sigma;
        init
        {
            if (!double.IsFinite(value) || value <= 0)
                EvaluationThrowHelper.ThrowOutOfRange(nameof(Sigma), value, "must be positive and finite");
            _sigma = value;
        }
    }
}
