namespace ImageCaptioning.Evaluation;

/// <summary>Options of <see cref="CaptionMetrics.Evaluate"/>.</summary>
public sealed record CaptionEvaluationOptions
{
    private readonly EvaluationTokenizerOptions _tokenizer = EvaluationTokenizerOptions.Default;
    private readonly BleuOptions _bleu = BleuOptions.Default;
    private readonly CiderDOptions _ciderD = CiderDOptions.Default;

    /// <summary>The options used when none are given.</summary>
    public static CaptionEvaluationOptions Default { get; } = new();

    /// <summary>How hypotheses and references are tokenised.</summary>
    public EvaluationTokenizerOptions Tokenizer
    {
        get => _tokenizer;
        init => _tokenizer = value ?? throw new ArgumentNullException(nameof(Tokenizer));
    }

    /// <summary>
    /// The corpus BLEU options: BLEU-1..4 without smoothing by default. The per-image sentence BLEU uses the same
    /// maximum order with <see cref="BleuSmoothing.Method1"/>, because a single caption often has no 4-gram match.
    /// </summary>
    public BleuOptions Bleu
    {
        get => _bleu;
        init => _bleu = value ?? throw new ArgumentNullException(nameof(Bleu));
    }

    /// <summary>The CIDEr-D options.</summary>
    public CiderDOptions CiderD
    {
        get => _ciderD;
        init => _ciderD = value ?? throw new ArgumentNullException(nameof(CiderD));
    }
}
