namespace ImageCaptioning.Evaluation;

/// <summary>
/// BLEU (Papineni et al., 2002) computed exactly as NLTK 3.8's <c>nltk.translate.bleu_score.corpus_bleu</c>:
/// clipped counts summed over the corpus as integers, the closest reference length (the shorter on a tie), the
/// brevity penalty, uniform weights 1/n for BLEU-n, and NLTK's treatment of zero-match orders.
/// </summary>
public static partial class Bleu
{
    /// <summary>
    /// The smallest normal double, <c>sys.float_info.min</c>: NLTK's method 0 puts it in place of a zero precision
    /// so the logarithm stays finite.
    /// </summary>
    private const double ZeroPrecisionStandIn = 2.2250738585072014E-308;

    /// <summary>Corpus BLEU: n-gram statistics are summed over all hypotheses before the precisions are taken.</summary>
    /// <param name="hypotheses">One token list per item.</param>
    /// <param name="references">For each hypothesis, its (at least one) reference token lists.</param>
    /// <param name="options">The maximum order and smoothing; <see cref="BleuOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentException">The counts differ, an item has no references, or a sentence or token is null.</exception>
    public static BleuScore Corpus(
        IReadOnlyList<IReadOnlyList<string>> hypotheses,
        IReadOnlyList<IReadOnlyList<IReadOnlyList<string>>> references,
        BleuOptions? options = null)
    {
        var corpus = TokenizedCorpus.Create(hypotheses, references, item => $"item {item}");
        return Corpus(corpus, options ?? BleuOptions.Default);
    }

    /// <summary>Sentence BLEU: corpus BLEU of a one-item corpus, as NLTK's <c>sentence_bleu</c>.</summary>
    /// <param name="hypothesis">The hypothesis tokens.</param>
    /// <param name="references">Its (at least one) reference token lists.</param>
    /// <param name="options">The maximum order and smoothing; <see cref="BleuOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentException">There are no references, or a sentence or token is null.</exception>
    public static BleuScore Sentence(
        IReadOnlyList<string> hypothesis,
        IReadOnlyList<IReadOnlyList<string>> references,
        BleuOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(hypothesis);
        ArgumentNullException.ThrowIfNull(references);
        return Corpus([hypothesis], [references], options);
    }

    internal static BleuScore Corpus(TokenizedCorpus corpus, BleuOptions options)
    {
        var statistics = new BleuStatistics(options.MaxOrder);
        for (var item = 0; item < corpus.Count; item++)
            statistics.Add(corpus.Hypotheses[item], corpus.References[item]);
        return statistics.ToScore(options);
    }
}
